package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The write-ahead log against a model, step by step, over random sequences of append, complete, checkpoint,
 * segment rolls (tiny segments), clean restarts and crashes — the process killed mid-append, leaving a torn record
 * at a random byte. After every reopen: nothing acknowledged and not completed is missing; nothing is replayed that
 * was completed before the last checkpoint; every replayed record is the one appended, byte for byte, in order;
 * sequence numbers keep growing. Seeded: a failure names its seed and step.
 */
class WriteAheadLogModelTest {
  @TempDir
  Path dir;

  /** What the log must hold: acknowledged records by sequence number, and which are done as of the checkpoint. */
  static final class Model {
    final TreeMap<Long, byte[]> pending = new TreeMap<>();
    final Set<Long> doneSinceCheckpoint = new HashSet<>();
    final Map<Long, byte[]> all = new TreeMap<>();
    long lastSeq;
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
  void behavesLikeItsModel(long seed) throws Exception {
    Random r = new Random(seed);
    Model m = new Model();
    WriteAheadLog wal = WriteAheadLog.open(dir, 256);
    for (int step = 0; step < 400; step++) {
      String where = "seed " + seed + ", step " + step;
      int op = r.nextInt(100);
      if (op < 50) {
        byte[] payload = ("s" + seed + "-" + step + "-" + "p".repeat(r.nextInt(120))).getBytes(StandardCharsets.UTF_8);
        long seq = wal.append(step, 1, payload);
        assertThat(seq).as(where).isGreaterThan(m.lastSeq);
        m.lastSeq = seq;
        m.pending.put(seq, payload);
        m.all.put(seq, payload);
      } else if (op < 75) {
        if (!m.pending.isEmpty()) {
          List<Long> keys = new ArrayList<>(m.pending.keySet());
          long seq = keys.get(r.nextInt(keys.size()));
          wal.done(seq);
          m.pending.remove(seq);
          m.doneSinceCheckpoint.add(seq);
        }
      } else if (op < 85) {
        wal.checkpoint(r.nextBoolean());
        m.doneSinceCheckpoint.clear();
      } else if (op < 95) {
        // Killed: no close, no final checkpoint; maybe in the middle of writing one more record.
        boolean torn = r.nextBoolean();
        if (torn) {
          byte[] payload = ("torn-" + step).getBytes(StandardCharsets.UTF_8);
          wal.append(step, 1, payload); // never acknowledged: cut below
        }
        abandon(wal);
        if (torn) {
          tearTail(r);
        }
        wal = reopen(m, where);
      } else {
        wal.close();
        m.doneSinceCheckpoint.clear(); // close checkpoints
        wal = reopen(m, where);
      }
    }
    wal.close();
  }

  private WriteAheadLog reopen(Model m, String where) throws IOException {
    WriteAheadLog wal = WriteAheadLog.open(dir, 256);
    long previous = 0;
    Set<Long> replayed = new HashSet<>();
    for (WriteAheadLog.Entry e : wal.recovery().entries()) {
      assertThat(e.seq()).as(where + ": order").isGreaterThan(previous);
      previous = e.seq();
      assertThat(m.all).as(where + ": replayed a record never acknowledged").containsKey(e.seq());
      assertThat(e.request()).as(where + ": record " + e.seq() + " intact").isEqualTo(m.all.get(e.seq()));
      assertThat(m.pending.containsKey(e.seq()) || m.doneSinceCheckpoint.contains(e.seq()))
          .as(where + ": record " + e.seq() + " was completed before the last checkpoint").isTrue();
      replayed.add(e.seq());
    }
    assertThat(replayed).as(where + ": acknowledged and not completed").containsAll(m.pending.keySet());
    // After a restart the queue replays: every record replayed is pending again, nothing else.
    m.pending.clear();
    for (WriteAheadLog.Entry e : wal.recovery().entries()) {
      m.pending.put(e.seq(), m.all.get(e.seq()));
    }
    m.doneSinceCheckpoint.clear();
    return wal;
  }

  /** Cuts the newest segment inside its last record, as a kill during the write would leave it. */
  private void tearTail(Random r) throws IOException {
    Path last;
    try (Stream<Path> s = Files.list(dir)) {
      last = s.filter(p -> p.toString().endsWith(".wal")).sorted().reduce((a, b) -> b).orElseThrow();
    }
    long size = Files.size(last);
    int lastRecord = 28 + ("torn-" + 0).length(); // at least this long; the cut stays inside the last record
    try (RandomAccessFile f = new RandomAccessFile(last.toFile(), "rw")) {
      if (size > 0) {
        f.setLength(size - 1 - r.nextInt((int) Math.min(size, lastRecord)));
      }
    }
  }

  /** The process dies: its file handles close, nothing else happens (no checkpoint, no force). */
  private static void abandon(WriteAheadLog wal) throws Exception {
    for (String field : new String[] {"active"}) {
      java.lang.reflect.Field f = WriteAheadLog.class.getDeclaredField(field);
      f.setAccessible(true);
      ((java.nio.channels.FileChannel) f.get(wal)).close();
    }
  }
}
