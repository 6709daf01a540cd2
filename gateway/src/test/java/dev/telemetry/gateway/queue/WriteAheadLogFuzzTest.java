package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The write-ahead log reopened on damaged files: a log is written (small segments, some records completed, maybe a
 * checkpoint), then its files are damaged — bytes overwritten, zero-filled, truncated, deleted, junk appended, or a
 * checkpoint forged with a valid checksum (a writer bug rather than a bad disk). Reopening never throws, hangs or
 * exhausts memory; every record it replays is one that was written, byte for byte, in sequence order; the log
 * accepts appends afterwards with higher sequence numbers.
 */
class WriteAheadLogFuzzTest {
  private static final Path ROOT = Path.of("target", "fuzz-wal");

  @FuzzTest(maxDuration = "5m")
  void reopenDamaged(FuzzedDataProvider data) throws IOException {
    Files.createDirectories(ROOT);
    Path dir = Files.createTempDirectory(ROOT, "wal");
    try {
      Map<Long, byte[]> written = new HashMap<>();
      try (WriteAheadLog wal = WriteAheadLog.open(dir, 256)) {
        int n = data.consumeInt(1, 24);
        for (int i = 0; i < n; i++) {
          byte[] payload = ("record-" + i + "-" + "x".repeat(data.consumeInt(0, 96))).getBytes(StandardCharsets.UTF_8);
          long seq = wal.append(i, 1, payload);
          written.put(seq, payload);
          if (data.consumeBoolean()) {
            wal.done(seq);
          }
        }
        if (data.consumeBoolean()) {
          wal.checkpoint(true);
        }
      }
      int damages = data.consumeInt(0, 4);
      for (int i = 0; i < damages; i++) {
        damage(dir, data);
      }
      if (data.consumeBoolean()) {
        forgeCheckpoint(dir, data);
      }
      try (WriteAheadLog wal = WriteAheadLog.open(dir, 256)) {
        long last = 0;
        for (WriteAheadLog.Entry e : wal.recovery().entries()) {
          assertThat(e.seq()).isGreaterThan(last);
          last = e.seq();
          byte[] expected = written.get(e.seq());
          assertThat(expected).as("replayed a record never written: seq %d", e.seq()).isNotNull();
          assertThat(e.request()).isEqualTo(expected);
        }
        assertThat(wal.append(0, 1, "after".getBytes(StandardCharsets.UTF_8))).isGreaterThan(last);
      }
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> {
          try {
            Files.delete(p);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
      }
    }
  }

  private static void damage(Path dir, FuzzedDataProvider data) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.sorted().toList();
    }
    if (files.isEmpty()) {
      return;
    }
    Path f = data.pickValue(files);
    long size = Files.size(f);
    switch (data.consumeInt(0, 4)) {
      case 0 -> write(f, data.consumeLong(0, size), ByteBuffer.wrap(data.consumeBytes(16)));
      case 1 -> write(f, data.consumeLong(0, size), ByteBuffer.allocate(data.consumeInt(1, 512))); // a zeroed page
      case 2 -> {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
          ch.truncate(data.consumeLong(0, size));
        }
      }
      case 3 -> Files.delete(f);
      default -> write(f, size, ByteBuffer.wrap(data.consumeBytes(64)));
    }
  }

  private static void write(Path f, long at, ByteBuffer bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.write(bytes, at);
    }
  }

  /** A checkpoint in the log's format (watermark, runs of completed sequence numbers, CRC32C) with fuzzed values. */
  private static void forgeCheckpoint(Path dir, FuzzedDataProvider data) throws IOException {
    int runs = data.consumeInt(0, 4);
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + runs * 16 + 4);
    b.putLong(data.consumeLong());
    b.putInt(runs);
    for (int i = 0; i < runs; i++) {
      b.putLong(data.consumeLong()).putLong(data.consumeLong());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    Files.write(dir.resolve("checkpoint"), b.array());
  }
}
