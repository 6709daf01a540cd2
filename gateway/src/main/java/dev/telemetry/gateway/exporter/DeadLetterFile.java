package dev.telemetry.gateway.exporter;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Data a backend refused for good, one JSON line each with the reason, so nothing is lost silently and an operator
 * can fix and replay it. Appends run on a single worker thread and are forced to disk.
 */
public final class DeadLetterFile {
  private final Path path;
  private final WorkerExecutor worker;

  public DeadLetterFile(Vertx vertx, Path path, String name) {
    this.path = path;
    this.worker = vertx.createSharedWorkerExecutor("dead-letter-" + name, 1);
  }

  public Path path() {
    return path;
  }

  /** Appends the lines (each a complete JSON object) and syncs them to disk. */
  public Future<Void> append(List<byte[]> lines) {
    return worker.executeBlocking(() -> {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.APPEND)) {
        for (byte[] line : lines) {
          ByteBuffer b = ByteBuffer.allocate(line.length + 1).put(line).put((byte) '\n').flip();
          while (b.hasRemaining()) {
            ch.write(b);
          }
        }
        ch.force(false);
      } catch (IOException e) {
        throw new IOException("cannot write dead-letter file " + path + ": " + e.getMessage(), e);
      }
      return null;
    }, true);
  }

  public Future<Void> close() {
    return worker.close();
  }
}
