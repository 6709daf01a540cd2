package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corruption catalogue: each kind of damage a disk or a crash can do to the log, with what reopening must make
 * of it. Never a failed start; never a record replayed that was not written; the intact records around damage kept.
 */
class WriteAheadLogCorruptionTest {
  @TempDir
  Path dir;

  /** Writes {@code n} records "r1".."rn" of {@code pad} extra bytes each, with {@code segment}-byte segments. */
  void write(int n, int pad, long segment) throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, segment)) {
      for (int i = 1; i <= n; i++) {
        wal.append(i, 1, ("r" + i + "-" + "x".repeat(pad)).getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  List<Long> replayed(WriteAheadLog wal) {
    return wal.recovery().entries().stream().map(WriteAheadLog.Entry::seq).toList();
  }

  List<Path> segments() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
    }
  }

  static List<Long> range(long from, long to) {
    return LongStream.rangeClosed(from, to).boxed().toList();
  }

  /** Record i (1-based) of equal-sized records starts at (i - 1) × size in its segment. */
  static long recordSize(int pad) {
    return 8 + 20 + ("r1-".length() + pad);
  }

  @Test
  void tornTailIsCutAndTheLogGoesOn() throws Exception {
    write(5, 10, 1 << 20);
    Path seg = segments().get(0);
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.setLength(f.length() - 7);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).isEqualTo(range(1, 4));
      assertThat(wal.recovery().tornRecords()).isEqualTo(1);
      assertThat(wal.recovery().damagedRecords()).isZero();
      assertThat(wal.append(9, 1, new byte[] {1})).isEqualTo(5);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).isEqualTo(range(1, 5));
    }
  }

  @Test
  void aBadChecksumInsideASegmentSkipsThatRecordOnly() throws Exception {
    write(5, 10, 1 << 20);
    try (RandomAccessFile f = new RandomAccessFile(segments().get(0).toFile(), "rw")) {
      long at = 2 * recordSize(10) + 30; // inside record 3's payload
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x40);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).containsExactly(1L, 2L, 4L, 5L);
      assertThat(wal.recovery().damagedRecords()).isEqualTo(1);
      assertThat(wal.recovery().tornRecords()).isZero();
    }
  }

  @Test
  void aZeroFilledPageLosesOnlyTheRecordsItCovered() throws Exception {
    write(100, 90, 1 << 20); // 121-byte records
    try (RandomAccessFile f = new RandomAccessFile(segments().get(0).toFile(), "rw")) {
      f.seek(4096);
      f.write(new byte[4096]);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      List<Long> seqs = replayed(wal);
      long size = recordSize(90);
      long firstHit = 4096 / size + 1; // 1-based record holding byte 4096
      long lastHit = (8192 - 1) / size + 1;
      List<Long> expected = new java.util.ArrayList<>(range(1, firstHit - 1));
      expected.addAll(range(lastHit + 1, 100));
      assertThat(seqs).isEqualTo(expected);
      assertThat(wal.recovery().damagedRecords()).isEqualTo(1);
    }
  }

  @Test
  void aTruncatedCheckpointReplaysEverythingDuplicatesNotLoss() throws Exception {
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      for (int i = 1; i <= 5; i++) {
        wal.append(i, 1, ("r" + i).getBytes(StandardCharsets.UTF_8));
      }
      wal.done(1);
      wal.done(2);
      wal.done(4);
    }
    Path checkpoint = dir.resolve("checkpoint");
    try (RandomAccessFile f = new RandomAccessFile(checkpoint.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).isEqualTo(range(1, 5));
    }
  }

  @Test
  void aMissingSegmentCostsOnlyItsRecords() throws Exception {
    write(30, 40, 400); // ~6 records per segment
    List<Path> segs = segments();
    assertThat(segs).hasSizeGreaterThan(3);
    Path gone = segs.get(1);
    long firstGone = Long.parseLong(gone.getFileName().toString().substring(8, 28));
    long firstAfter = Long.parseLong(segs.get(2).getFileName().toString().substring(8, 28));
    Files.delete(gone);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 400)) {
      List<Long> expected = new java.util.ArrayList<>(range(1, firstGone - 1));
      expected.addAll(range(firstAfter, 30));
      assertThat(replayed(wal)).isEqualTo(expected);
      assertThat(wal.append(1, 1, new byte[] {1})).isEqualTo(31);
    }
  }

  @Test
  void junkAfterTheLastRecordIsATornTail() throws Exception {
    write(3, 10, 1 << 20);
    Files.write(segments().get(0), new byte[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7}, java.nio.file.StandardOpenOption.APPEND);
    try (WriteAheadLog wal = WriteAheadLog.open(dir, 1 << 20)) {
      assertThat(replayed(wal)).isEqualTo(range(1, 3));
      assertThat(wal.recovery().tornRecords()).isEqualTo(1);
    }
  }
}
