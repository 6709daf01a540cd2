package dev.telemetry.gateway.queue;

import dev.telemetry.gateway.config.QueueConfig.Fsync;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The non-blocking face of a {@link WriteAheadLog}: appends and completions from any thread are handed to the log's
 * own writer thread, which writes whatever has gathered, forces it to disk once for all of it (group commit, when
 * the fsync policy is {@code always}), and then completes the appends on their callers' contexts. So a client's
 * success can wait for durability without an event loop ever touching the disk.
 */
public final class DurableQueue {
  private static final Logger LOG = Logger.getLogger(DurableQueue.class.getName());
  private static final long CHECKPOINT_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** One or more records appended together: one promise, completed once for all of them. */
  private record Append(long receivedMillis, int[] items, byte[][] requests, Promise<List<Appended>> promise,
                        Context context) {
  }

  /** A record written: its sequence number and where it is, to read it back if it is not kept in memory. */
  public record Appended(long seq, WriteAheadLog.Location location) {
  }

  private final Path directory;
  private final long segmentBytes;
  private final Fsync fsync;
  private final ScheduledExecutorService writer;
  private final ConcurrentLinkedQueue<Append> appends = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Long> done = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean scheduled = new AtomicBoolean();
  private WriteAheadLog wal;
  private volatile long diskBytes;
  private long lastCheckpointNanos;
  private boolean checkpointOwed; // writer thread only
  private volatile boolean closed;

  public DurableQueue(Path directory, long segmentBytes, Fsync fsync, Duration fsyncInterval, String name) {
    this.directory = directory;
    this.segmentBytes = segmentBytes;
    this.fsync = fsync;
    this.writer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "wal-" + name);
      t.setDaemon(true);
      return t;
    });
    if (fsync == Fsync.INTERVAL) {
      long ms = Math.max(1, fsyncInterval.toMillis());
      writer.scheduleWithFixedDelay(this::syncNow, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  public Path directory() {
    return directory;
  }

  /**
   * Opens the log (on the writer thread) and returns what is to be replayed; request bytes are kept in memory up to
   * {@code keepBytes}, the rest is read back when sent.
   */
  public Future<WriteAheadLog.Recovery> open(long keepBytes) {
    Promise<WriteAheadLog.Recovery> p = Promise.promise();
    Context ctx = Vertx.currentContext();
    writer.execute(() -> {
      try {
        wal = WriteAheadLog.open(directory, segmentBytes, keepBytes);
        diskBytes = wal.diskBytes();
        complete(ctx, () -> p.complete(wal.recovery()));
      } catch (IOException | RuntimeException e) {
        complete(ctx, () -> p.fail(new IOException("cannot open the queue's write-ahead log in " + directory + ": "
            + e.getMessage(), e)));
      }
    });
    return p.future();
  }

  /** Appends a request; completes once written (and forced, per the fsync policy). */
  public Future<Appended> append(long receivedMillis, int items, byte[] request) {
    return appendAll(receivedMillis, new int[] {items}, new byte[][] {request}).map(l -> l.get(0));
  }

  /**
   * Appends several records in order, completing once for all of them (one hop back to the caller's context, not
   * one per record); fails whole if any cannot be written (those written before it are then still in the log).
   */
  public Future<List<Appended>> appendAll(long receivedMillis, int[] items, byte[][] requests) {
    if (closed) {
      return Future.failedFuture(new IOException("the write-ahead log is closed"));
    }
    Promise<List<Appended>> p = Promise.promise();
    appends.add(new Append(receivedMillis, items, requests, p, Vertx.currentContext()));
    kick();
    return p.future();
  }

  /** Reads records back (on the writer thread, so their segments cannot be deleted meanwhile). */
  public Future<List<byte[]>> read(List<WriteAheadLog.Location> locations) {
    Promise<List<byte[]>> p = Promise.promise();
    Context ctx = Vertx.currentContext();
    try {
      writer.execute(() -> {
        try {
          List<byte[]> out = new ArrayList<>(locations.size());
          for (WriteAheadLog.Location l : locations) {
            out.add(WriteAheadLog.read(l));
          }
          complete(ctx, () -> p.complete(out));
        } catch (IOException | RuntimeException e) {
          complete(ctx, () -> p.fail(e));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      return Future.failedFuture(new IOException("the write-ahead log is closed"));
    }
    return p.future();
  }

  /** Marks a record delivered or given up; it will not be replayed. */
  public void done(long seq) {
    done.add(seq);
    kick();
  }

  /** Bytes on disk, as of the last write. */
  public long diskBytes() {
    return diskBytes;
  }

  /** Writes what is pending, forces everything and the checkpoint to disk, and stops the writer thread. */
  public Future<Void> close() {
    Promise<Void> p = Promise.promise();
    Context ctx = Vertx.currentContext();
    closed = true;
    writer.execute(() -> {
      try {
        flush();
        if (wal != null) {
          wal.close();
        }
        complete(ctx, p::complete);
      } catch (IOException | RuntimeException e) {
        complete(ctx, () -> p.fail(e));
      } finally {
        writer.shutdown();
      }
    });
    return p.future();
  }

  private void kick() {
    if (scheduled.compareAndSet(false, true)) {
      try {
        writer.execute(this::flush);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        scheduled.set(false); // closed; appends were refused above
      }
    }
  }

  private void flush() {
    scheduled.set(false);
    if (wal == null) {
      return;
    }
    List<Append> batch = new ArrayList<>();
    Append a;
    while ((a = appends.poll()) != null) {
      batch.add(a);
    }
    List<List<Appended>> written = new ArrayList<>(batch.size());
    IOException failure = null;
    for (Append x : batch) {
      List<Appended> records = null;
      if (failure == null) {
        records = new ArrayList<>(x.requests().length);
        try {
          for (int r = 0; r < x.requests().length; r++) {
            long seq = wal.append(x.receivedMillis(), x.items()[r], x.requests()[r]);
            records.add(new Appended(seq, wal.lastAppended()));
          }
        } catch (IOException e) {
          failure = e;
          records = null;
        }
      }
      written.add(records);
    }
    if (failure == null && !batch.isEmpty() && fsync == Fsync.ALWAYS) {
      try {
        wal.sync();
      } catch (IOException e) {
        failure = e;
        java.util.Collections.fill(written, null);
      }
    }
    Long d;
    while ((d = done.poll()) != null) {
      wal.done(d);
    }
    long now = System.nanoTime();
    if (now - lastCheckpointNanos >= CHECKPOINT_EVERY_NANOS) {
      try {
        wal.checkpoint(fsync == Fsync.ALWAYS);
        lastCheckpointNanos = now;
      } catch (IOException e) {
        LOG.log(Level.WARNING, "cannot write the WAL checkpoint in " + directory + " (records may be replayed "
            + "after a restart): " + e.getMessage());
      }
    } else if (!checkpointOwed) {
      checkpointOwed = true; // come back for it even if nothing else happens
      writer.schedule(() -> {
        checkpointOwed = false;
        flush();
      }, 50, TimeUnit.MILLISECONDS);
    }
    diskBytes = wal.diskBytes();
    for (int i = 0; i < batch.size(); i++) {
      Append x = batch.get(i);
      List<Appended> records = written.get(i);
      IOException f = failure;
      complete(x.context(), () -> {
        if (records != null) {
          x.promise().complete(records);
        } else {
          x.promise().fail(new IOException("write-ahead log write failed in " + directory + ": " + f.getMessage(),
              f));
        }
      });
    }
  }

  private void syncNow() {
    if (wal == null) {
      return;
    }
    try {
      wal.sync();
      wal.checkpoint(true);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "WAL fsync failed in " + directory + ": " + e.getMessage());
    }
  }

  private static void complete(Context ctx, Runnable r) {
    if (ctx == null) {
      r.run();
    } else {
      ctx.runOnContext(v -> r.run());
    }
  }
}
