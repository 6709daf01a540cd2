package dev.telemetry.gateway.pipeline;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.queue.DurableQueue;
import dev.telemetry.gateway.queue.WriteAheadLog;
import io.vertx.core.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * The write-ahead-log side of a persistent exporter queue: appends each request before the client is told success,
 * keeps at most {@code memory_bytes} of waiting requests in memory (the rest waits on disk only and is read back
 * when its batch is sent), replays what was not delivered at start, and marks records done.
 */
final class DurableSlots {
  private static final Logger LOG = Logger.getLogger(DurableSlots.class.getName());

  private final String name;
  private final Signal signal;
  private final QueueConfig config;
  private final DurableQueue log;
  /** Encoded bytes of waiting requests held in memory (bounded by {@code memory_bytes}). */
  private final AtomicLong inMemoryBytes = new AtomicLong();

  DurableSlots(String exporterName, Signal signal, QueueConfig config) {
    this.name = exporterName + " (" + signal.id() + ")";
    this.signal = signal;
    this.config = config;
    this.log = new DurableQueue(config.directory().resolve(exporterName).resolve(signal.id()), config.segmentBytes(),
        config.fsync(), config.fsyncInterval(), exporterName + "-" + signal.id());
  }

  long diskBytes() {
    return log.diskBytes();
  }

  /**
   * The hard disk cap: delivered records that a long-retried batch holds back still take space, so the log may grow
   * two segments past {@code max_bytes}, and no further.
   */
  boolean wouldExceedDisk(int bytes) {
    return log.diskBytes() + bytes > config.maxBytes() + 2 * config.segmentBytes();
  }

  /**
   * Opens the log and hands every record not yet delivered to {@code replayed}, in order; returns the items and torn
   * records found.
   */
  Future<Recovered> open(Consumer<QueuedSlot> replayed) {
    return log.open(config.memoryBytes()).map(recovery -> replay(recovery, replayed));
  }

  record Recovered(long items, int tornRecords) {
  }

  private Recovered replay(WriteAheadLog.Recovery recovery, Consumer<QueuedSlot> replayed) {
    long items = 0;
    long nowNanos = System.nanoTime();
    long nowMillis = System.currentTimeMillis();
    for (WriteAheadLog.Entry e : recovery.entries()) {
      Message request = null;
      if (e.request() != null) {
        try {
          request = signal.parseRequest(e.request());
          inMemoryBytes.addAndGet(e.size());
        } catch (InvalidProtocolBufferException ex) {
          LOG.severe("exporter " + name + ": write-ahead log record " + e.seq() + " passed its CRC but does not "
              + "parse; skipped: " + ex.getMessage());
          log.done(e.seq());
          continue;
        }
      }
      long received = nowNanos - TimeUnit.MILLISECONDS.toNanos(Math.max(0, nowMillis - e.receivedMillis()));
      replayed.accept(new QueuedSlot(new QueuedRequest(request, e.items(), e.size(), received), e.seq(),
          e.location(), 0));
      items += e.items();
    }
    if (items > 0 || recovery.tornRecords() > 0) {
      LOG.info("exporter " + name + ": replaying " + items + " " + signal.itemName() + " from the write-ahead log in "
          + log.directory() + (recovery.tornRecords() > 0 ? "; discarded " + recovery.tornRecords()
          + " torn record(s), " + recovery.discardedBytes() + " bytes (never acknowledged)" : ""));
    }
    if (recovery.damagedRecords() > 0) {
      LOG.severe("exporter " + name + ": the write-ahead log in " + log.directory() + " had "
          + recovery.damagedRecords() + " damaged stretch(es) inside its files (the disk corrupted data that was "
          + "acknowledged); they were skipped and the records around them replayed — check the disk");
    }
    return new Recovered(items, recovery.tornRecords() + recovery.damagedRecords());
  }

  /**
   * Writes a request to the log (and forces it to disk, per the fsync policy); the slot keeps the request in memory
   * while the budget allows, with its {@code heap} charge, else only its location (and no charge: the caller frees
   * it).
   */
  Future<QueuedSlot> append(QueuedRequest r, long heap) {
    long receivedMillis = System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime()
        - r.receivedNanos());
    return log.append(receivedMillis, r.items(), r.request().toByteArray()).map(appended -> {
      boolean keep = inMemoryBytes.addAndGet(r.bytes()) <= config.memoryBytes();
      if (!keep) {
        inMemoryBytes.addAndGet(-r.bytes());
      }
      return new QueuedSlot(keep ? r : new QueuedRequest(null, r.items(), r.bytes(), r.receivedNanos()),
          appended.seq(), appended.location(), keep ? heap : 0);
    });
  }

  /** A slot left the waiting line (batched or dropped): its in-memory bytes no longer count. */
  void leftLine(QueuedSlot slot) {
    if (!slot.spilled()) {
      inMemoryBytes.addAndGet(-slot.request().bytes());
    }
  }

  /** The batch with every spilled request read back from the log; fails with an IOException if one cannot be. */
  Future<List<QueuedSlot>> load(List<QueuedSlot> batch) {
    List<QueuedSlot> spilled = batch.stream().filter(QueuedSlot::spilled).toList();
    if (spilled.isEmpty()) {
      return Future.succeededFuture(batch);
    }
    return log.read(spilled.stream().map(QueuedSlot::location).toList()).recover(e ->
        Future.failedFuture(new IOException(e.getMessage(), e))).compose(read -> {
          List<QueuedSlot> loaded = new ArrayList<>(batch.size());
          int next = 0;
          try {
            for (QueuedSlot s : batch) {
              if (s.spilled()) {
                QueuedRequest r = s.request();
                loaded.add(new QueuedSlot(new QueuedRequest(signal.parseRequest(read.get(next++)), r.items(),
                    r.bytes(), r.receivedNanos()), s.seq(), s.location(), signal.parsedHeapBytes(r.bytes())));
              } else {
                loaded.add(s);
              }
            }
          } catch (InvalidProtocolBufferException e) {
            return Future.failedFuture(new IOException(e.getMessage(), e));
          }
          return Future.succeededFuture(loaded);
        });
  }

  /** The slot's record was delivered or given up: it is not replayed. */
  void done(QueuedSlot slot) {
    log.done(slot.seq());
  }

  String directory() {
    return log.directory().toString();
  }

  Future<Void> close() {
    return log.close();
  }
}
