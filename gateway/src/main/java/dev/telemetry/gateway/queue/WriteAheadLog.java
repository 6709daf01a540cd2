package dev.telemetry.gateway.queue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.TreeSet;
import java.util.logging.Logger;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * An append-only log of queued requests in segment files, with a checkpoint of what has been completed. Blocking and
 * not thread-safe: {@link DurableQueue} calls it from one thread.
 *
 * <p>Record: {@code [int length][int crc32c][payload]}, payload = {@code [long seq][long receivedMillis][int items]
 * [request bytes]}. Segments are named by their first sequence number and rolled at {@code segmentBytes}. The
 * checkpoint holds the low watermark: every record up to it is done (delivered or given up); completions out of
 * order are held in memory until the gap closes. On open, records after the watermark are returned for replay; a
 * torn or corrupt record ends its segment (the file is truncated there) and is counted. A segment whose records are
 * all done is deleted.
 */
public final class WriteAheadLog implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(WriteAheadLog.class.getName());
  private static final int HEADER = 8;
  private static final int PAYLOAD_HEADER = 20;
  private static final int MAX_RECORD = 512 * 1024 * 1024;
  private static final String CHECKPOINT = "checkpoint";
  /** Sequence numbers stay far below overflow (one per request: centuries at a million requests a second). */
  private static final long MAX_SEQ = 1L << 60;
  /** Completions beyond the watermark a checkpoint may list: more than any queue holds. */
  private static final long MAX_DONE_AHEAD = 1L << 24;
  /** How far past a damaged record recovery looks for the next intact one (a few damaged pages). */
  private static final int RESYNC_WINDOW = 4 << 20;
  /** Records a damaged stretch may have held: a "next record" further ahead in sequence is a coincidence. */
  private static final long RESYNC_MAX_GAP = 1 << 20;

  /**
   * One record read back: {@code request} is null when recovery left it on disk (beyond the memory budget); it can be
   * read at ({@code segment}, {@code offset}). {@code size} is the request's encoded size.
   */
  public record Entry(long seq, long receivedMillis, int items, byte[] request, Location location, int size) {
  }

  /** Where a record starts. */
  public record Location(Path segment, long offset) {
  }

  /**
   * What {@link #open} found: records to replay, and damage it repaired — a torn tail (a record never finished, so
   * never acknowledged) cut off, damaged stretches inside a segment skipped (acknowledged data the disk lost).
   */
  public record Recovery(List<Entry> entries, int tornRecords, int damagedRecords, long discardedBytes) {
  }

  private record Segment(Path path, long firstSeq, long lastSeq, long size) {
  }

  private final Path directory;
  private final long segmentBytes;
  private final Deque<Segment> closed = new ArrayDeque<>();
  private final TreeSet<Long> doneAhead = new TreeSet<>();
  private final ByteBuffer header = ByteBuffer.allocate(HEADER + PAYLOAD_HEADER);
  private FileChannel active;
  private Path activePath;
  private long activeFirstSeq;
  private long activeLastSeq;
  private long activeSize;
  private long nextSeq;
  private long watermark;
  private long checkpointed;
  private int checkpointedAhead;
  private long closedBytes;
  private Recovery recovery;
  private Location lastAppended;

  private WriteAheadLog(Path directory, long segmentBytes) {
    this.directory = directory;
    this.segmentBytes = segmentBytes;
  }

  /** Opens (creating if needed) the log in {@code directory}, repairing a torn tail. */
  public static WriteAheadLog open(Path directory, long segmentBytes) throws IOException {
    return open(directory, segmentBytes, Long.MAX_VALUE);
  }

  /**
   * As {@link #open(Path, long)}; records to replay keep their request bytes only up to {@code keepBytes} in all,
   * the rest stay on disk (their {@link Entry#location()} says where).
   */
  public static WriteAheadLog open(Path directory, long segmentBytes, long keepBytes) throws IOException {
    Files.createDirectories(directory);
    WriteAheadLog wal = new WriteAheadLog(directory, segmentBytes);
    wal.recover(keepBytes);
    return wal;
  }

  /** Where the last {@link #append} wrote. */
  public Location lastAppended() {
    return lastAppended;
  }

  /** Reads the request bytes of the record at {@code location} (which must not have been deleted). */
  public static byte[] read(Location location) throws IOException {
    try (FileChannel ch = FileChannel.open(location.segment(), StandardOpenOption.READ)) {
      Entry e = readRecord(location.segment(), ch, location.offset(), ch.size());
      if (e == null) {
        throw new IOException("record at " + location + " is damaged");
      }
      return e.request();
    }
  }

  public Recovery recovery() {
    return recovery;
  }

  /** Bytes of all segment files. */
  public long diskBytes() {
    return closedBytes + activeSize;
  }

  /** The highest sequence number such that it and everything before it are done. */
  public long watermark() {
    return watermark;
  }

  /** Appends a record (not yet forced to disk) and returns its sequence number. */
  public long append(long receivedMillis, int items, byte[] request) throws IOException {
    if (activeSize >= segmentBytes && activeLastSeq >= activeFirstSeq) {
      roll();
    }
    long seq = nextSeq++;
    int length = PAYLOAD_HEADER + request.length;
    header.clear();
    header.putInt(length).putInt(0).putLong(seq).putLong(receivedMillis).putInt(items).flip();
    CRC32C crc = new CRC32C();
    crc.update(header.array(), HEADER, PAYLOAD_HEADER);
    crc.update(request);
    header.putInt(4, (int) crc.getValue());
    ByteBuffer body = ByteBuffer.wrap(request);
    long written = 0;
    try {
      while (header.hasRemaining() || body.hasRemaining()) {
        written += active.write(new ByteBuffer[] {header, body});
      }
    } catch (IOException e) {
      // A full disk (or another write error) mid-record: take the partial record back, so that the file stays a
      // clean sequence of records and the next append lands where its location says; and reuse the number — a gap
      // would hold the watermark, and every segment after it, back for ever.
      nextSeq--;
      try {
        active.truncate(activeSize);
        active.position(activeSize);
      } catch (IOException again) {
        e.addSuppressed(again); // then recovery cuts the partial record as a torn one
      }
      throw e;
    }
    lastAppended = new Location(activePath, activeSize);
    activeSize += written;
    activeLastSeq = seq;
    return seq;
  }

  /** Forces appended records to the storage device. */
  public void sync() throws IOException {
    active.force(false);
  }

  /** Marks a record done (delivered or given up). Advances the watermark and deletes segments wholly done. */
  public void done(long seq) {
    if (seq <= watermark) {
      return;
    }
    if (seq != watermark + 1) {
      doneAhead.add(seq);
      return;
    }
    watermark = seq;
    while (!doneAhead.isEmpty() && doneAhead.first() == watermark + 1) {
      watermark = doneAhead.pollFirst();
    }
    while (!closed.isEmpty() && closed.peekFirst().lastSeq() <= watermark) {
      Segment s = closed.pollFirst();
      closedBytes -= s.size();
      try {
        Files.deleteIfExists(s.path());
      } catch (IOException e) {
        LOG.warning("cannot delete finished WAL segment " + s.path() + ": " + e.getMessage());
      }
    }
  }

  /**
   * Persists the watermark and the records done beyond it (as runs of sequence numbers), if anything changed:
   * written to a temporary file and renamed over the old one; forced to disk when {@code force}. Recording the
   * completions beyond the watermark keeps a batch stuck in retries from turning everything delivered after it into
   * duplicates after a crash.
   */
  public void checkpoint(boolean force) throws IOException {
    if (watermark == checkpointed && doneAhead.size() == checkpointedAhead) {
      return;
    }
    List<long[]> runs = new ArrayList<>();
    for (long seq : doneAhead) {
      long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
      if (last != null && last[1] + 1 == seq) {
        last[1] = seq;
      } else {
        runs.add(new long[] {seq, seq});
      }
    }
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + runs.size() * 16 + 4).putLong(watermark).putInt(runs.size());
    for (long[] r : runs) {
      b.putLong(r[0]).putLong(r[1]);
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue()).flip();
    Path tmp = directory.resolve(CHECKPOINT + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      while (b.hasRemaining()) {
        ch.write(b);
      }
      if (force) {
        ch.force(true);
      }
    }
    try {
      Files.move(tmp, directory.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, directory.resolve(CHECKPOINT), StandardCopyOption.REPLACE_EXISTING);
    }
    checkpointed = watermark;
    checkpointedAhead = doneAhead.size();
  }

  @Override
  public void close() throws IOException {
    checkpoint(true);
    active.force(true);
    active.close();
  }

  // ---------------------------------------------------------------- recovery

  private void recover(long keepBytes) throws IOException {
    long kept = 0;
    watermark = readCheckpoint();
    checkpointed = watermark;
    List<Path> files;
    try (Stream<Path> s = Files.list(directory)) {
      files = s.filter(p -> p.getFileName().toString().matches("segment-\\d{20}\\.wal")).sorted().toList();
    }
    List<Entry> replay = new ArrayList<>();
    int torn = 0;
    int damaged = 0;
    long discarded = 0;
    long maxSeq = watermark;
    List<Segment> segments = new ArrayList<>();
    for (Path f : files) {
      long first;
      try {
        first = Long.parseLong(f.getFileName().toString().substring(8, 28));
      } catch (NumberFormatException e) {
        LOG.warning("WAL " + f + ": not a segment this log wrote (its number overflows); left alone");
        continue;
      }
      long last = first - 1;
      long good = 0;
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        long size = ch.size();
        while (good < size) {
          Entry e = readRecord(f, ch, good, size);
          if (e == null) {
            long next = resync(f, ch, good, size, last);
            if (next > 0) {
              // Damage inside the file (a bad sector, a zeroed page): skip it, keep the intact records after it.
              damaged++;
              discarded += next - good;
              LOG.severe("WAL " + f + ": " + (next - good) + " damaged bytes at offset " + good + " skipped; the "
                  + "records after them are intact (what the damaged bytes held is lost)");
              good = next;
              continue;
            }
            torn++;
            discarded += size - good;
            LOG.warning("WAL " + f + ": torn or corrupt record at offset " + good + "; truncating "
                + (size - good) + " bytes");
            ch.truncate(good);
            break;
          }
          good += HEADER + PAYLOAD_HEADER + e.size();
          last = e.seq();
          maxSeq = Math.max(maxSeq, e.seq());
          if (e.seq() > watermark && !doneAhead.contains(e.seq())) {
            boolean keep = kept + e.size() <= keepBytes;
            kept += keep ? e.size() : 0;
            replay.add(keep ? e : new Entry(e.seq(), e.receivedMillis(), e.items(), null, e.location(), e.size()));
          }
        }
      }
      segments.add(new Segment(f, first, last, good));
    }
    nextSeq = maxSeq + 1;
    // Everything but the last segment is closed; finished ones are deleted right away.
    for (int i = 0; i < segments.size(); i++) {
      Segment s = segments.get(i);
      boolean isLast = i == segments.size() - 1;
      if (isLast && s.size() < segmentBytes) {
        openActive(s.path(), s.firstSeq(), s.lastSeq(), s.size());
      } else if (s.lastSeq() <= watermark || s.size() == 0) {
        Files.deleteIfExists(s.path());
      } else {
        closed.addLast(s);
        closedBytes += s.size();
      }
    }
    if (active == null) {
      newActive();
    }
    recovery = new Recovery(replay, torn, damaged, discarded);
  }

  /**
   * After a bad record at {@code from}: the offset of the next intact record (checksum, and a sequence number just
   * after {@code lastSeq}) within {@link #RESYNC_WINDOW}, or -1 when there is none — then the bad record is a torn
   * tail. Searched in memory, only when something is damaged.
   */
  private static long resync(Path file, FileChannel ch, long from, long size, long lastSeq) throws IOException {
    int window = (int) Math.min(size - from - 1, RESYNC_WINDOW);
    if (window < HEADER + PAYLOAD_HEADER) {
      return -1;
    }
    ByteBuffer buf = ByteBuffer.allocate(window);
    readFully(ch, buf, from + 1);
    for (int i = 0; i + HEADER + PAYLOAD_HEADER <= window; i++) {
      int length = buf.getInt(i);
      long seq = buf.getLong(i + HEADER);
      long pos = from + 1 + i;
      if (length >= PAYLOAD_HEADER && length <= MAX_RECORD && pos + HEADER + length <= size
          && seq > lastSeq && seq - lastSeq < RESYNC_MAX_GAP && readRecord(file, ch, pos, size) != null) {
        return pos;
      }
    }
    return -1;
  }

  /** Reads (and checks) the record at {@code pos}, or null if it is torn or corrupt. */
  private static Entry readRecord(Path file, FileChannel ch, long pos, long size) throws IOException {
    if (size - pos < HEADER + PAYLOAD_HEADER) {
      return null;
    }
    ByteBuffer h = ByteBuffer.allocate(HEADER + PAYLOAD_HEADER);
    readFully(ch, h, pos);
    h.flip();
    int length = h.getInt();
    int crcValue = h.getInt();
    if (length < PAYLOAD_HEADER || length > MAX_RECORD || size - pos - HEADER < length) {
      return null;
    }
    long seq = h.getLong();
    long received = h.getLong();
    int items = h.getInt();
    ByteBuffer body = ByteBuffer.allocate(length - PAYLOAD_HEADER);
    readFully(ch, body, pos + HEADER + PAYLOAD_HEADER);
    CRC32C crc = new CRC32C();
    crc.update(h.array(), HEADER, PAYLOAD_HEADER);
    crc.update(body.array());
    if ((int) crc.getValue() != crcValue) {
      return null;
    }
    return new Entry(seq, received, items, body.array(), new Location(file, pos), body.capacity());
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  /** Reads the watermark (returned) and the completions beyond it (into {@link #doneAhead}). */
  private long readCheckpoint() {
    try {
      byte[] bytes = Files.readAllBytes(directory.resolve(CHECKPOINT));
      ByteBuffer b = ByteBuffer.wrap(bytes);
      if (bytes.length >= 16) {
        long w = b.getLong();
        int runs = b.getInt();
        if (runs >= 0 && bytes.length == 8 + 4 + runs * 16L + 4) {
          List<long[]> read = new ArrayList<>();
          for (int i = 0; i < runs; i++) {
            read.add(new long[] {b.getLong(), b.getLong()});
          }
          CRC32C crc = new CRC32C();
          crc.update(bytes, 0, bytes.length - 4);
          if (b.getInt() == (int) crc.getValue() && plausible(w, read)) {
            for (long[] r : read) {
              for (long s = r[0]; s <= r[1]; s++) {
                doneAhead.add(s);
              }
            }
            checkpointedAhead = doneAhead.size();
            return w;
          }
        }
      }
      LOG.warning("WAL " + directory + ": checkpoint is damaged; replaying every record (duplicates possible)");
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      LOG.warning("WAL " + directory + ": cannot read the checkpoint (" + e.getMessage() + "); replaying every "
          + "record (duplicates possible)");
    }
    return 0;
  }

  /**
   * What {@link #checkpoint} can have written: a watermark far from overflow, runs ordered above it and no more
   * completions than a queue can hold. A checksum only proves the file is what was written; a bad writer (or a
   * hand-edited file) must not make recovery loop for ever or wrap the sequence numbers.
   */
  private static boolean plausible(long watermark, List<long[]> runs) {
    if (watermark < 0 || watermark > MAX_SEQ) {
      return false;
    }
    long previous = watermark;
    long total = 0;
    boolean first = true;
    for (long[] r : runs) {
      // Runs are written merged and in order: each starts past the watermark, after a gap from the one before.
      if (r[1] < r[0] || r[1] > MAX_SEQ || (first ? r[0] <= watermark : r[0] <= previous + 1)) {
        return false;
      }
      first = false;
      total += r[1] - r[0] + 1;
      if (total > MAX_DONE_AHEAD) {
        return false;
      }
      previous = r[1];
    }
    return true;
  }

  private void roll() throws IOException {
    active.force(false);
    // The next segment first: if it cannot be created (a full disk), the current one stays active and usable.
    Path p = segmentPath(nextSeq);
    FileChannel next = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    active.close();
    closed.addLast(new Segment(activePath, activeFirstSeq, activeLastSeq, activeSize));
    closedBytes += activeSize;
    active = next;
    activePath = p;
    activeFirstSeq = nextSeq;
    activeLastSeq = nextSeq - 1;
    activeSize = 0;
  }

  private Path segmentPath(long firstSeq) {
    return directory.resolve(String.format("segment-%020d.wal", firstSeq));
  }

  private void newActive() throws IOException {
    openActive(segmentPath(nextSeq), nextSeq, nextSeq - 1, 0);
  }

  private void openActive(Path p, long first, long last, long size) throws IOException {
    active = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    active.position(size);
    activePath = p;
    activeFirstSeq = first;
    activeLastSeq = last;
    activeSize = size;
  }
}
