package dev.telemetry.gateway.exporter.file;

import com.google.protobuf.Message;
import dev.telemetry.gateway.exporter.file.FileExporterConfig;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes each batch as one line of OTLP/JSON to {@code <directory>/<signal>.jsonl} — the format the Collector's file
 * exporter writes and its otlpjsonfile receiver reads. Encoding and file I/O run on a dedicated single-thread worker,
 * never on the event loop; the single thread keeps lines whole and in order.
 */
public final class FileExporter implements Exporter {
  private final Vertx vertx;
  private final FileExporterConfig config;
  private final Signal signal;
  private WorkerExecutor worker;
  private RotatingFile file;

  public FileExporter(Vertx vertx, FileExporterConfig config, Signal signal) {
    this.vertx = vertx;
    this.config = config;
    this.signal = signal;
  }

  @Override
  public Future<Void> start() {
    worker = vertx.createSharedWorkerExecutor("file-exporter-" + config.name() + "-" + signal.id(), 1);
    return worker.<Void>executeBlocking(() -> {
      file = new RotatingFile(config.directory(), signal.id(), config.maxFileBytes(), config.maxFiles());
      return null;
    });
  }

  @Override
  public Future<ExportResult> export(Message request, int items) {
    return worker.executeBlocking(() -> {
      ByteArrayOutputStream line = new ByteArrayOutputStream(Math.max(256, request.getSerializedSize() * 2));
      OtlpJson.write(request, line);
      line.write('\n');
      try {
        file.append(line.toByteArray());
      } catch (IOException e) {
        // Disk full or a permissions change may be fixed by an operator: worth retrying.
        throw ExportException.retryable("io_error", "cannot write " + file.current() + ": " + e.getMessage(), null);
      }
      return ExportResult.OK;
    }, true);
  }

  @Override
  public Future<Void> stop() {
    if (worker == null) {
      return Future.succeededFuture();
    }
    return worker.<Void>executeBlocking(() -> {
      if (file != null) {
        file.close();
      }
      return null;
    }).eventually(() -> worker.close());
  }

  /** An append-only file rotated by size; not thread-safe, used from the exporter's single worker thread. */
  static final class RotatingFile {
    private final Path directory;
    private final String base;
    private final long maxBytes;
    private final int maxFiles;
    private FileChannel channel;
    private long size;

    RotatingFile(Path directory, String base, long maxBytes, int maxFiles) throws IOException {
      this.directory = directory;
      this.base = base;
      this.maxBytes = maxBytes;
      this.maxFiles = maxFiles;
      Files.createDirectories(directory);
      open();
    }

    Path current() {
      return directory.resolve(base + ".jsonl");
    }

    private void open() throws IOException {
      channel = FileChannel.open(current(), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND);
      size = channel.size();
    }

    void append(byte[] line) throws IOException {
      if (size > 0 && size + line.length > maxBytes) {
        rotate();
      }
      ByteBuffer buf = ByteBuffer.wrap(line);
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
      size += line.length;
    }

    private String lastStamp = "";
    private int nextSequence;

    /** Renames the current file to {@code <base>-<UTC time>-<seq>.jsonl}; keeps only the newest maxFiles of those. */
    private void rotate() throws IOException {
      channel.close();
      String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
          .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
      // The sequence keeps names unique and in order when rotations fall in the same millisecond. It only grows
      // within a stamp: a name freed by retention must not be reused, or the newest file would sort as the oldest.
      int n = stamp.equals(lastStamp) ? nextSequence : 0;
      Path target;
      do {
        target = directory.resolve(String.format("%s-%s-%03d.jsonl", base, stamp, n++));
      } while (Files.exists(target));
      lastStamp = stamp;
      nextSequence = n;
      Files.move(current(), target);
      try (var rotated = Files.list(directory)) {
        var old = rotated.filter(p -> {
          String name = p.getFileName().toString();
          return name.startsWith(base + "-") && name.endsWith(".jsonl");
        }).sorted().toList();
        for (int i = 0; i < old.size() - maxFiles; i++) {
          Files.deleteIfExists(old.get(i));
        }
      }
      open();
    }

    void close() throws IOException {
      channel.close();
    }
  }
}
