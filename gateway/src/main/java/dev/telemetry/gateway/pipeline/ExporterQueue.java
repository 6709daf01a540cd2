package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.DeadLetterFile;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.logging.RateLimitedLog;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.queue.DurableQueue;
import dev.telemetry.gateway.queue.WriteAheadLog;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The bounded queue, batcher and retry loop in front of one exporter (for one signal).
 *
 * <p>Offering is thread-safe and non-blocking: receivers on any event loop {@link #tryReserve reserve} room (items and
 * encoded bytes), then {@link #enqueue}. Room stays reserved until the request's batch is delivered or given up, so
 * the bounds cover everything accepted and not yet delivered, and a full queue is seen by receivers as
 * back-pressure. Everything else — batching, sending, retrying — runs on the exporter's own context, so exporters
 * never see concurrent calls from two threads.
 */
public final class ExporterQueue {
  private static final Logger LOG = Logger.getLogger(ExporterQueue.class.getName());

  private final String exporterName;
  private final Signal signal;
  private final Exporter exporter;
  private final Context context;
  private final QueueConfig queueConfig;
  private final BatchConfig batchConfig;
  private final RetryConfig retryConfig;
  private final Backoff backoff;
  private final ExporterMetrics metrics;
  private final RateLimitedLog failureLog = new RateLimitedLog(LOG, 10_000);
  /** The write-ahead log of a persistent queue; null for a memory queue. */
  private final DurableQueue durable;
  /** Where batches given up for good are written; null when not configured. */
  private final DeadLetterFile deadLetters;

  // Shared between offering threads and the exporter context.
  private final ConcurrentLinkedQueue<Slot> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicLong reservedItems = new AtomicLong();
  private final AtomicLong reservedBytes = new AtomicLong();
  private final AtomicLong waitingItems = new AtomicLong();
  private final AtomicLong waitingBytes = new AtomicLong();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();

  // Confined to the exporter context.
  private int inFlight;
  private long batchTimer = -1;
  private boolean stopping;
  private long stopDeadlineNanos;
  private Promise<Void> drained;

  public ExporterQueue(String exporterName, Signal signal, Exporter exporter, Context context,
                       QueueConfig queue, BatchConfig batch, RetryConfig retry, MeterRegistry registry) {
    this.exporterName = exporterName;
    this.signal = signal;
    this.exporter = exporter;
    this.context = context;
    this.queueConfig = queue;
    this.batchConfig = batch;
    this.retryConfig = retry;
    this.backoff = new Backoff(retry);
    this.metrics = new ExporterMetrics(registry, exporterName, signal);
    metrics.gauges(reservedItems::get, reservedBytes::get, queue.maxItems(), queue.maxBytes());
    this.durable = queue.type() == QueueConfig.Type.PERSISTENT ? new DurableQueue(
        queue.directory().resolve(exporterName).resolve(signal.id()), queue.segmentBytes(), queue.fsync(),
        queue.fsyncInterval(), exporterName + "-" + signal.id()) : null;
    metrics.durabilityGauges(this::oldestAgeSeconds, durable == null ? null : durable::diskBytes);
    this.deadLetters = queue.deadLetterFile() == null ? null
        : new DeadLetterFile(context.owner(), queue.deadLetterFile(), exporterName + "-" + signal.id());
  }

  /**
   * A queued request and, in a persistent queue, its write-ahead log sequence number and location (-1 and null
   * otherwise). A persistent queue over its memory budget keeps the request on disk only: {@code request.request()}
   * is then null and the batch reads it back.
   */
  private record Slot(QueuedRequest request, long seq, WriteAheadLog.Location location) {
    boolean spilled() {
      return request.request() == null;
    }
  }

  /** Encoded bytes of waiting requests a persistent queue holds in memory (bounded by {@code memory_bytes}). */
  private final AtomicLong inMemoryBytes = new AtomicLong();

  private double oldestAgeSeconds() {
    Slot head = waiting.peek();
    return head == null ? 0 : (System.nanoTime() - head.request().receivedNanos()) / 1e9;
  }

  public String exporterName() {
    return exporterName;
  }

  public Signal signal() {
    return signal;
  }

  /** Replays the write-ahead log (persistent queues), then starts the exporter on its context. */
  public Future<Void> start() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> (durable == null ? Future.<Void>succeededFuture()
        : durable.open(queueConfig.memoryBytes()).map(this::replay))
        .compose(x -> exporter.start()).onComplete(p));
    return p.future();
  }

  /** Queues what the log holds undelivered, beyond the bounds if need be: it was acknowledged to clients. */
  private Void replay(WriteAheadLog.Recovery recovery) {
    long items = 0;
    long nowNanos = System.nanoTime();
    long nowMillis = System.currentTimeMillis();
    for (WriteAheadLog.Entry e : recovery.entries()) {
      Message request = null;
      if (e.request() != null) {
        try {
          request = signal.parseRequest(e.request());
          inMemoryBytes.addAndGet(e.size());
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          LOG.severe("exporter " + exporterName + " (" + signal.id() + "): write-ahead log record " + e.seq()
              + " passed its CRC but does not parse; skipped: " + ex.getMessage());
          durable.done(e.seq());
          continue;
        }
      }
      reservedItems.addAndGet(e.items());
      reservedBytes.addAndGet(e.size());
      long received = nowNanos - TimeUnit.MILLISECONDS.toNanos(Math.max(0, nowMillis - e.receivedMillis()));
      add(new Slot(new QueuedRequest(request, e.items(), e.size(), received), e.seq(), e.location()));
      items += e.items();
    }
    metrics.recovered(items, recovery.tornRecords());
    if (items > 0 || recovery.tornRecords() > 0) {
      LOG.info("exporter " + exporterName + " (" + signal.id() + "): replaying " + items + " " + signal.itemName()
          + " from the write-ahead log in " + durable.directory()
          + (recovery.tornRecords() > 0 ? "; discarded " + recovery.tornRecords() + " torn record(s), "
          + recovery.discardedBytes() + " bytes (never acknowledged)" : ""));
    }
    return null;
  }

  /**
   * Reserves room for a request, or returns false when the queue is at a bound. A request larger than the whole
   * queue is still taken when the queue is empty, so an oversized request cannot be refused forever.
   */
  boolean tryReserve(int items, int bytes) {
    if (durable != null
        && durable.diskBytes() + bytes > queueConfig.maxBytes() + 2 * queueConfig.segmentBytes()) {
      return false; // the hard disk cap: delivered records a long-retried batch holds back still take space
    }
    long i = reservedItems.addAndGet(items);
    long b = reservedBytes.addAndGet(bytes);
    boolean over = i > queueConfig.maxItems() && i != items || b > queueConfig.maxBytes() && b != bytes;
    if (!over) {
      return true;
    }
    if (queueConfig.whenFull() == QueueConfig.WhenFull.DROP_OLDEST && !waiting.isEmpty()) {
      // Take it, and drop the oldest waiting requests on the queue's context until the bounds hold again.
      context.runOnContext(v -> dropOldest());
      return true;
    }
    reservedItems.addAndGet(-items);
    reservedBytes.addAndGet(-bytes);
    return false;
  }

  private void dropOldest() {
    long dropped = 0;
    while (reservedItems.get() > queueConfig.maxItems() || reservedBytes.get() > queueConfig.maxBytes()) {
      Slot oldest = waiting.poll();
      if (oldest == null) {
        break; // only in-flight batches left: they finish or retry, then the bounds hold again
      }
      QueuedRequest r = oldest.request();
      if (durable != null && !oldest.spilled()) {
        inMemoryBytes.addAndGet(-r.bytes());
      }
      waitingItems.addAndGet(-r.items());
      waitingBytes.addAndGet(-r.bytes());
      cancelReservation(r.items(), r.bytes());
      if (durable != null) {
        durable.done(oldest.seq());
      }
      dropped += r.items();
    }
    if (dropped > 0) {
      metrics.failed("drop_oldest", dropped);
      failureLog.log(Level.WARNING, "drop_oldest", "exporter " + exporterName + " (" + signal.id() + "): queue full, "
          + "dropped the oldest " + dropped + " " + signal.itemName() + " (when_full: drop_oldest)");
    }
  }

  /** Undoes {@link #tryReserve} for a request that was not enqueued after all. */
  void cancelReservation(int items, int bytes) {
    reservedItems.addAndGet(-items);
    reservedBytes.addAndGet(-bytes);
  }

  /**
   * Adds a request for which room was reserved. Completes when it is queued: at once for a memory queue, after the
   * write-ahead log write (and fsync, per policy) for a persistent one; on a log failure the reservation is released.
   */
  Future<Void> enqueue(QueuedRequest r) {
    if (durable == null) {
      add(new Slot(r, -1, null));
      return Future.succeededFuture();
    }
    return durable.append(System.currentTimeMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime()
        - r.receivedNanos()), r.items(), r.request().toByteArray()).transform(ar -> {
          if (ar.failed()) {
            cancelReservation(r.items(), r.bytes());
            failureLog.log(Level.SEVERE, "wal", "exporter " + exporterName + " (" + signal.id() + "): "
                + ar.cause().getMessage() + "; refusing data until it works again");
            return Future.failedFuture(new PipelineRefusedException(PipelineRefusedException.Reason.NOT_READY,
                "the queue of exporter \"" + exporterName + "\" cannot write to disk; retry later"));
          }
          // Keep it in memory while the budget allows; otherwise it waits on disk only.
          boolean keep = inMemoryBytes.addAndGet(r.bytes()) <= queueConfig.memoryBytes();
          if (!keep) {
            inMemoryBytes.addAndGet(-r.bytes());
          }
          add(new Slot(keep ? r : new QueuedRequest(null, r.items(), r.bytes(), r.receivedNanos()),
              ar.result().seq(), ar.result().location()));
          return Future.succeededFuture();
        });
  }

  private void add(Slot slot) {
    QueuedRequest r = slot.request();
    waiting.add(slot);
    waitingItems.addAndGet(r.items());
    waitingBytes.addAndGet(r.bytes());
    metrics.queued(r.items());
    if (drainScheduled.compareAndSet(false, true)) {
      context.runOnContext(v -> {
        drainScheduled.set(false);
        drain();
      });
    }
  }

  /** Items accepted and not yet delivered or given up. */
  public long size() {
    return reservedItems.get();
  }

  // ------------------------------------------------------------------ exporter context from here on

  private void drain() {
    while (inFlight < queueConfig.concurrency()) {
      Slot head = waiting.peek();
      if (head == null) {
        cancelBatchTimer();
        break;
      }
      boolean full = waitingItems.get() >= batchConfig.maxItems() || waitingBytes.get() >= batchConfig.maxBytes();
      long waitNanos = batchConfig.timeout().toNanos() - (System.nanoTime() - head.request().receivedNanos());
      if (!full && !stopping && waitNanos > 0) {
        scheduleBatchTimer(waitNanos);
        break;
      }
      cancelBatchTimer();
      List<Slot> batch = takeBatch();
      if (batch.isEmpty()) {
        break;
      }
      inFlight++;
      if (batch.stream().anyMatch(Slot::spilled)) {
        loadThenSend(batch);
      } else {
        send(new Batch(batch), 0, System.nanoTime());
      }
    }
    checkDrained();
  }

  /** Reads the requests of spilled slots back from the write-ahead log, then sends the batch. */
  private void loadThenSend(List<Slot> batch) {
    List<Slot> spilled = batch.stream().filter(Slot::spilled).toList();
    durable.read(spilled.stream().map(Slot::location).toList()).onComplete(ar -> onContext(() -> {
      List<Slot> loaded = new ArrayList<>(batch.size());
      try {
        if (ar.failed()) {
          throw new java.io.IOException(ar.cause().getMessage(), ar.cause());
        }
        int next = 0;
        for (Slot s : batch) {
          if (s.spilled()) {
            Message m = signal.parseRequest(ar.result().get(next++));
            QueuedRequest r = s.request();
            loaded.add(new Slot(new QueuedRequest(m, r.items(), r.bytes(), r.receivedNanos()), s.seq(),
                s.location()));
          } else {
            loaded.add(s);
          }
        }
      } catch (java.io.IOException e) {
        // Left in the log (not marked done): a restart replays it. Counted so it is not silent.
        long items = batch.stream().mapToLong(s -> s.request().items()).sum();
        long bytes = batch.stream().mapToLong(s -> s.request().bytes()).sum();
        metrics.failed("wal_read_error", items);
        failureLog.log(Level.SEVERE, "wal-read", "exporter " + exporterName + " (" + signal.id() + "): cannot "
            + "read " + items + " " + signal.itemName() + " back from the write-ahead log (kept there for the next "
            + "start): " + e.getMessage());
        inFlight--;
        cancelReservation((int) items, (int) bytes);
        drain();
        return;
      }
      send(new Batch(loaded), 0, System.nanoTime());
    }));
  }

  private List<Slot> takeBatch() {
    List<Slot> out = new ArrayList<>();
    long items = 0;
    long bytes = 0;
    Slot slot;
    while ((slot = waiting.peek()) != null) {
      QueuedRequest next = slot.request();
      if (!out.isEmpty() && (items + next.items() > batchConfig.maxItems()
          || bytes + next.bytes() > batchConfig.maxBytes())) {
        break;
      }
      waiting.poll();
      waitingItems.addAndGet(-next.items());
      waitingBytes.addAndGet(-next.bytes());
      if (durable != null && !slot.spilled()) {
        inMemoryBytes.addAndGet(-next.bytes());
      }
      items += next.items();
      bytes += next.bytes();
      out.add(slot);
    }
    return out;
  }

  private void scheduleBatchTimer(long nanos) {
    if (batchTimer < 0) {
      long ms = Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos));
      batchTimer = context.owner().setTimer(ms, id -> {
        batchTimer = -1;
        drain();
      });
    }
  }

  private void cancelBatchTimer() {
    if (batchTimer >= 0) {
      context.owner().cancelTimer(batchTimer);
      batchTimer = -1;
    }
  }

  /** The requests of one send, merged into one export request. */
  private final class Batch {
    final List<Slot> parts;
    final Message request;
    final int items;
    final int bytes;

    Batch(List<Slot> parts) {
      this.parts = parts;
      int i = 0;
      int b = 0;
      for (Slot p : parts) {
        i += p.request().items();
        b += p.request().bytes();
      }
      this.items = i;
      this.bytes = b;
      if (parts.size() == 1) {
        this.request = parts.get(0).request().request();
      } else {
        List<Message> resources = new ArrayList<>();
        for (Slot p : parts) {
          resources.addAll(signal.resources(p.request().request()));
        }
        this.request = signal.requestOf(resources);
      }
    }
  }

  private void send(Batch batch, int retry, long firstTryNanos) {
    Future<ExportResult> f;
    try {
      f = exporter.export(batch.request, batch.items);
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    f.onComplete(ar -> onContext(() -> {
      if (ar.succeeded()) {
        delivered(batch, ar.result());
      } else {
        failed(batch, retry, firstTryNanos, ar.cause());
      }
    }));
  }

  /**
   * Runs on the exporter's context even if the exporter completed its future elsewhere (e.g. a client library's own
   * I/O thread): everything below {@link #drain} is confined to that context.
   */
  private void onContext(Runnable action) {
    if (io.vertx.core.Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  private void delivered(Batch batch, ExportResult result) {
    long now = System.nanoTime();
    long rejected = Math.min(result.rejected(), batch.items);
    metrics.sent((int) (batch.items - rejected), batch.bytes);
    if (rejected > 0) {
      metrics.failed("rejected_by_backend", rejected);
      failureLog.log(Level.WARNING, "partial", "exporter " + exporterName + " (" + signal.id() + "): backend rejected "
          + rejected + " of " + batch.items + " " + signal.itemName() + ": " + result.message());
    }
    for (Slot p : batch.parts) {
      metrics.latency(p.request().receivedNanos(), now);
    }
    finish(batch);
  }

  private void failed(Batch batch, int retry, long firstTryNanos, Throwable cause) {
    ExportException e = cause instanceof ExportException ee ? ee
        : new ExportException(String.valueOf(cause), true, null, "error", cause);
    long now = System.nanoTime();
    if (e.retryable() && retryConfig.enabled()) {
      long delayMs = e.retryAfter() != null ? Math.max(1, e.retryAfter().toMillis()) : backoff.delayMillis(retry + 1);
      long elapsedAfterDelay = now - firstTryNanos + TimeUnit.MILLISECONDS.toNanos(delayMs);
      boolean outOfTime = elapsedAfterDelay > retryConfig.maxElapsed().toNanos();
      boolean shutdownOver = stopping && now + TimeUnit.MILLISECONDS.toNanos(delayMs) > stopDeadlineNanos;
      if (!outOfTime && !shutdownOver) {
        metrics.retried();
        failureLog.log(Level.WARNING, "retry:" + e.reason(), "exporter " + exporterName + " (" + signal.id()
            + "): export failed, retrying in " + delayMs + "ms: " + e.getMessage());
        context.owner().setTimer(delayMs, id -> send(batch, retry + 1, firstTryNanos));
        return;
      }
      giveUp(batch, shutdownOver ? "shutdown" : "retries_exhausted", e);
    } else {
      giveUp(batch, e.retryable() ? "retries_disabled" : "permanent", e);
    }
  }

  private void giveUp(Batch batch, String reason, ExportException e) {
    if (durable != null && reason.equals("shutdown")) {
      // Not given up at all: it stays in the write-ahead log and is sent after the next start.
      LOG.info("exporter " + exporterName + " (" + signal.id() + "): " + batch.items + " " + signal.itemName()
          + " not delivered before shutdown stay in the write-ahead log");
      inFlight--;
      cancelReservation(batch.items, batch.bytes);
      drain();
      return;
    }
    metrics.failed(reason, batch.items);
    failureLog.log(Level.SEVERE, "drop:" + reason + ":" + e.reason(), "exporter " + exporterName + " ("
        + signal.id() + "): dropped " + batch.items + " " + signal.itemName() + " (" + reason + "): "
        + e.getMessage() + (deadLetters == null ? "" : "; written to " + deadLetters.path()));
    if (deadLetters != null) {
      deadLetters.append(List.of(deadLetter(batch, reason, e))).onFailure(x -> LOG.severe("exporter "
          + exporterName + " (" + signal.id() + "): " + batch.items + " " + signal.itemName() + " given up ("
          + reason + ") and not written to the dead-letter file: " + x.getMessage()));
    }
    finish(batch);
  }

  /** One dead-letter line: when, which exporter and signal, why, and the request as OTLP/JSON. */
  private byte[] deadLetter(Batch batch, String reason, ExportException e) {
    io.vertx.core.json.JsonObject head = new io.vertx.core.json.JsonObject()
        .put("time", java.time.Instant.now().toString()).put("exporter", exporterName).put("signal", signal.id())
        .put("reason", reason).put("error", e.getMessage()).put("items", batch.items);
    String prefix = head.encode();
    byte[] json = dev.telemetry.gateway.otlp.OtlpJson.write(batch.request);
    byte[] start = (prefix.substring(0, prefix.length() - 1) + ",\"request\":")
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] line = java.util.Arrays.copyOf(start, start.length + json.length + 1);
    System.arraycopy(json, 0, line, start.length, json.length);
    line[line.length - 1] = '}';
    return line;
  }

  private void finish(Batch batch) {
    inFlight--;
    cancelReservation(batch.items, batch.bytes);
    if (durable != null) {
      for (Slot p : batch.parts) {
        durable.done(p.seq());
      }
    }
    drain();
  }

  /**
   * Flushes what is waiting (ignoring the batch timeout) and completes when the queue is empty or the timeout has
   * passed; retries continue until then. The exporter is stopped afterwards.
   */
  public Future<Void> drainAndStop(long timeoutMillis) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      stopping = true;
      stopDeadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
      drained = Promise.promise();
      long timer = context.owner().setTimer(Math.max(1, timeoutMillis), id -> {
        if (drained.tryComplete()) {
          long left = reservedItems.get();
          if (left > 0 && durable != null) {
            LOG.info("exporter " + exporterName + " (" + signal.id() + "): shutdown timeout; " + left + " "
                + signal.itemName() + " stay in the write-ahead log for the next start");
          } else if (left > 0) {
            LOG.warning("exporter " + exporterName + " (" + signal.id() + "): shutdown timeout with " + left + " "
                + signal.itemName() + " undelivered");
            metrics.failed("shutdown", left);
          }
        }
      });
      drain();
      drained.future().onComplete(x -> {
        context.owner().cancelTimer(timer);
        exporter.stop().transform(s -> durable == null ? Future.succeededFuture() : durable.close())
            .onComplete(s -> done.complete());
      });
    });
    return done.future();
  }

  private void checkDrained() {
    if (stopping && drained != null && inFlight == 0 && waiting.isEmpty()) {
      drained.tryComplete();
    }
  }
}
