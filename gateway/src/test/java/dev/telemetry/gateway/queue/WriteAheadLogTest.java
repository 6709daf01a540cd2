package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {
  @TempDir
  Path dir;

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static List<String> replayed(WriteAheadLog wal) {
    return wal.recovery().entries().stream().map(e -> new String(e.request(), StandardCharsets.UTF_8)).toList();
  }

  List<Path> segments() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
    }
  }

  @Test
  void undoneRecordsAreReplayedInOrderWithTheirMetadata() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(wal.recovery().entries()).isEmpty();
      for (int i = 1; i <= 5; i++) {
        assertThat(wal.append(1000 + i, i, bytes("r" + i))).isEqualTo(i);
      }
      wal.done(1);
      wal.done(3); // out of order: the watermark stays at 1 until 2 is done
      assertThat(wal.watermark()).isEqualTo(1);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("r2", "r4", "r5"); // r3 was done out of order: not replayed
      WriteAheadLog.Entry first = wal.recovery().entries().get(0);
      assertThat(first.seq()).isEqualTo(2);
      assertThat(first.receivedMillis()).isEqualTo(1002);
      assertThat(first.items()).isEqualTo(2);
      assertThat(wal.append(0, 1, bytes("r6"))).isEqualTo(6);
      for (long s = 2; s <= 6; s++) {
        wal.done(s);
      }
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(wal.recovery().entries()).isEmpty();
      assertThat(wal.append(0, 1, bytes("r7"))).isEqualTo(7);
    }
  }

  @Test
  void aTornTailIsTruncatedCountedAndTheRestKept() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      wal.append(0, 1, bytes("complete-1"));
      wal.append(0, 1, bytes("complete-2"));
      wal.append(0, 1, bytes("torn-by-a-crash"));
    }
    Path seg = segments().get(0);
    long size = Files.size(seg);
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.setLength(size - 5); // the last record lost its end
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("complete-1", "complete-2");
      assertThat(wal.recovery().tornRecords()).isEqualTo(1);
      assertThat(wal.recovery().discardedBytes()).isEqualTo(size - 5 - 2 * (28 + 10));
      assertThat(wal.append(0, 1, bytes("after"))).isEqualTo(3); // the torn record's number is reused: never acked
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("complete-1", "complete-2", "after");
      assertThat(wal.recovery().tornRecords()).isZero();
    }
  }

  @Test
  void aFlippedBitFailsTheCrc() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      wal.append(0, 1, bytes("good"));
      wal.append(0, 1, bytes("flipped"));
    }
    Path seg = segments().get(0);
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.seek(Files.size(seg) - 2);
      int b = f.read();
      f.seek(Files.size(seg) - 2);
      f.write(b ^ 0x01);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("good");
      assertThat(wal.recovery().tornRecords()).isEqualTo(1);
    }
  }

  @Test
  void segmentsRollAndAreDeletedOnceEveryRecordInThemIsDone() throws Exception {
    byte[] payload = new byte[100];
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 300)) {
      for (int i = 0; i < 10; i++) {
        wal.append(0, 1, payload); // 128 bytes each: 3 per segment
      }
      assertThat(segments()).hasSize(4);
      assertThat(wal.diskBytes()).isEqualTo(10 * 128);
      for (long s = 1; s <= 6; s++) {
        wal.done(s);
      }
      assertThat(segments()).hasSize(2);
      assertThat(wal.diskBytes()).isEqualTo(4 * 128);
      assertThat(segments().get(0).getFileName().toString()).isEqualTo("segment-00000000000000000007.wal");
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 300)) {
      assertThat(wal.recovery().entries()).extracting(WriteAheadLog.Entry::seq).containsExactly(7L, 8L, 9L, 10L);
    }
  }

  @Test
  void aDamagedCheckpointReplaysEverythingRatherThanLosingAnything() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      wal.append(0, 1, bytes("a"));
      wal.append(0, 1, bytes("b"));
      wal.append(0, 1, bytes("c"));
      wal.done(1);
      wal.done(3);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("b");
    }
    Files.write(dir.resolve("checkpoint"), new byte[] {1, 2, 3});
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("a", "b", "c");
      wal.done(1);
      wal.done(3);
    }
    byte[] cp = Files.readAllBytes(dir.resolve("checkpoint"));
    cp[7] ^= 0x10; // a flipped bit in the watermark: the CRC catches it
    Files.write(dir.resolve("checkpoint"), cp);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("a", "b", "c");
    }
  }

  @Test
  void recoveryKeepsRequestsInMemoryOnlyUpToTheBudgetAndTheRestCanBeReadBack() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      for (int i = 1; i <= 4; i++) {
        wal.append(0, 1, bytes("req-" + i)); // 5 bytes each
      }
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20, 10)) {
      List<WriteAheadLog.Entry> e = wal.recovery().entries();
      assertThat(e).extracting(x -> x.request() == null).containsExactly(false, false, true, true);
      assertThat(e).extracting(WriteAheadLog.Entry::size).containsOnly(5);
      assertThat(new String(WriteAheadLog.read(e.get(3).location()), StandardCharsets.UTF_8)).isEqualTo("req-4");
      long seq = wal.append(0, 1, bytes("req-5"));
      assertThat(new String(WriteAheadLog.read(wal.lastAppended()), StandardCharsets.UTF_8)).isEqualTo("req-5");
      assertThat(seq).isEqualTo(5);
    }
  }

  @Test
  void aChecksummedButImplausibleCheckpointIsTreatedAsDamagedNotBelieved() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      for (int i = 1; i <= 3; i++) {
        wal.append(i, 1, bytes("r" + i));
      }
    }
    // One run of 2^62 completions: believing it would loop for ever; a watermark near Long.MAX would wrap.
    for (long[] forged : new long[][] {{0, 5, 1L << 62}, {Long.MAX_VALUE - 1}}) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 4 + (forged.length - 1) / 2 * 16 + 4);
      b.putLong(forged[0]).putInt((forged.length - 1) / 2);
      for (int i = 1; i < forged.length; i++) {
        b.putLong(forged[i]);
      }
      java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
      crc.update(b.array(), 0, b.position());
      b.putInt((int) crc.getValue());
      Files.write(dir.resolve("checkpoint"), b.array());
      try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
        assertThat(replayed(wal)).containsExactly("r1", "r2", "r3"); // replay all: duplicates, never loss
        assertThat(wal.append(9, 1, bytes("next"))).isEqualTo(4);
      }
      Files.delete(dir.resolve("checkpoint"));
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.filter(p -> p.toString().endsWith(".wal")).toList()) {
          if (!p.getFileName().toString().equals("segment-00000000000000000001.wal")) {
            Files.delete(p); // keep the three records only
          }
        }
      }
      try (RandomAccessFile f = new RandomAccessFile(dir.resolve("segment-00000000000000000001.wal").toFile(),
          "rw")) {
        f.setLength(3 * (28 + 2));
      }
    }
    Files.write(dir.resolve("segment-99999999999999999999.wal"), new byte[10]); // not ours: overflows a long
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly("r1", "r2", "r3");
    }
  }
}
