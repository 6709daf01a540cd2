package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.DeadLetter;
import dev.telemetry.gateway.exporter.DeadLetterFile;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.logging.RateLimitedLog;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The bounded queue in front of one exporter (for one signal): it hands out {@link Reservation}s of items and
 * encoded bytes (and of the parsed request's heap, from the {@link HeapLedger}), and runs the send loop — batches
 * from the {@link WaitingLine}, retries by the {@link RetryPolicy}, dead letters for what is given up. A persistent
 * queue keeps its requests in a write-ahead log ({@link DurableSlots}).
 *
 * <p>Reserving and committing are thread-safe and non-blocking (receivers on any event loop). Room stays reserved
 * until the request's batch is delivered or given up, so the bounds cover everything accepted and not yet delivered,
 * and a full queue is seen by receivers as back-pressure. Everything else runs on the exporter's own context, so
 * exporters never see concurrent calls from two threads.
 */
public final class ExporterQueue {
  private static final Logger LOG = Logger.getLogger(ExporterQueue.class.getName());

  private final String exporterName;
  private final Signal signal;
  private final Exporter exporter;
  private final Context context;
  private final QueueConfig queueConfig;
  private final RetryPolicy retryPolicy;
  private final ExporterMetrics metrics;
  private final RateLimitedLog failureLog = new RateLimitedLog(LOG, 10_000);
  /** The write-ahead log of a persistent queue; null for a memory queue. */
  private final DurableSlots durable;
  /** Where batches given up for good are written; null when not configured. */
  private final DeadLetterFile deadLetters;
  private final WaitingLine waiting;
  private final HeapLedger heap;

  // Shared between offering threads and the exporter context.
  private final AtomicLong reservedItems = new AtomicLong();
  private final AtomicLong reservedBytes = new AtomicLong();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();

  // Confined to the exporter context.
  private int inFlight;
  private long batchTimer = -1;
  private boolean stopping;
  private long stopDeadlineNanos;
  private Promise<Void> drained;
  /** Set when the shutdown timeout has passed: what is still reserved has been counted as lost or kept. */
  private boolean abandoned;
  /** Acknowledged items this queue could not deliver or keep at shutdown (memory queues, or a failed log write). */
  private final AtomicLong lostAtShutdown = new AtomicLong();
  /** Items of batches a persistent queue stopped sending at shutdown: they stay in the log for the next start. */
  private volatile long keptAtShutdown;

  public ExporterQueue(String exporterName, Signal signal, Exporter exporter, Context context,
                       QueueConfig queue, BatchConfig batch, RetryConfig retry, MeterRegistry registry) {
    this(exporterName, signal, exporter, context, queue, batch, retry, registry, HeapLedger.unbounded());
  }

  /** {@code heap}: requests held in memory are charged there at their parsed size before they are queued. */
  public ExporterQueue(String exporterName, Signal signal, Exporter exporter, Context context,
                       QueueConfig queue, BatchConfig batch, RetryConfig retry, MeterRegistry registry,
                       HeapLedger heap) {
    this.heap = heap;
    this.exporterName = exporterName;
    this.signal = signal;
    this.exporter = exporter;
    this.context = context;
    this.queueConfig = queue;
    this.retryPolicy = new RetryPolicy(retry);
    this.waiting = new WaitingLine(batch);
    this.metrics = new ExporterMetrics(registry, exporterName, signal);
    metrics.gauges(reservedItems::get, reservedBytes::get, queue.maxItems(), queue.maxBytes());
    this.durable = queue.type() == QueueConfig.Type.PERSISTENT ? new DurableSlots(exporterName, signal, queue) : null;
    metrics.durabilityGauges(waiting::oldestAgeSeconds, durable == null ? null : durable::diskBytes,
        durable == null ? null : java.nio.file.Path.of(durable.directory()));
    this.deadLetters = queue.deadLetterFile() == null ? null
        : new DeadLetterFile(context.owner(), queue.deadLetterFile(), exporterName + "-" + signal.id());
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
        : durable.open(this::replayed).map(r -> {
          metrics.recovered(r.items(), r.tornRecords());
          return (Void) null;
        }))
        .compose(x -> exporter.start()).onComplete(p));
    return p.future();
  }

  /** Queues a replayed request, beyond the bounds if need be: it was acknowledged to clients. */
  private void replayed(QueuedSlot slot) {
    reservedItems.addAndGet(slot.request().items());
    reservedBytes.addAndGet(slot.request().bytes());
    long cost = slot.spilled() ? 0 : signal.parsedHeapBytes(slot.request().bytes());
    heap.charge(cost);
    add(new QueuedSlot(slot.request(), slot.seq(), slot.location(), cost));
  }

  /**
   * Reserves room for a request (any thread): items and bytes in the queue, and the parsed request's heap in the
   * ledger; committing enqueues it. Throws {@link RefusedException} when the queue is at a bound (QUEUE_FULL) or the
   * ledger is (MEMORY_LIMIT). {@code request} is asked for only on commit, once: a caller holding its data in
   * another form (the tail sampler's encoded spans) builds it only when there is room.
   */
  Reservation reserve(Supplier<? extends Message> request, int items, int bytes) {
    if (!tryReserve(items, bytes)) {
      throw new RefusedException(RefusedException.Reason.QUEUE_FULL, "the queue of exporter \"" + exporterName
          + "\" is full; retry later");
    }
    long cost = signal.parsedHeapBytes(bytes);
    if (!heap.tryCharge(cost)) {
      cancelReservation(items, bytes);
      throw heap.full();
    }
    return new Reservation() {
      @Override
      public Future<Void> commit() {
        return enqueue(new QueuedRequest(request.get(), items, bytes, System.nanoTime()), cost);
      }

      @Override
      public void release() {
        cancelReservation(items, bytes);
        heap.free(cost);
      }
    };
  }

  /**
   * At shutdown, for acknowledged data that found no room in time: a persistent queue takes it beyond its bounds (it
   * is written to the log and sent after the next start if not before); a memory queue counts it as lost
   * ({@code reason="shutdown"}). Returns how many items were lost.
   */
  long keepAtShutdown(Supplier<? extends Message> request, int items, int bytes) {
    if (durable == null) {
      lost(items);
      return items;
    }
    reservedItems.addAndGet(items);
    reservedBytes.addAndGet(bytes);
    long cost = signal.parsedHeapBytes(bytes);
    heap.charge(cost);
    // A log that cannot be written now loses them after all: counted, and enqueue has logged why.
    enqueue(new QueuedRequest(request.get(), items, bytes, System.nanoTime()), cost)
        .onFailure(e -> lost(items));
    return 0;
  }

  private void lost(long items) {
    metrics.failed("shutdown", items);
    lostAtShutdown.addAndGet(items);
  }

  /**
   * What this queue's stop left behind, for the gateway's last log line: acknowledged items lost (memory queue) and
   * items kept in the write-ahead log for the next start (persistent queue).
   */
  public ShutdownOutcome shutdownOutcome() {
    return new ShutdownOutcome(exporterName, signal, durable != null, lostAtShutdown.get(),
        durable == null ? 0 : reservedItems.get() + keptAtShutdown);
  }

  /** See {@link #shutdownOutcome()}. */
  public record ShutdownOutcome(String exporter, Signal signal, boolean persistent, long lost, long kept) {
  }

  /**
   * Takes room for a request, or returns false when the queue is at a bound. A request larger than the whole queue
   * is still taken when the queue is empty, so an oversized request cannot be refused forever.
   */
  private boolean tryReserve(int items, int bytes) {
    if (durable != null && durable.wouldExceedDisk(bytes)) {
      return false;
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
    cancelReservation(items, bytes);
    return false;
  }

  /** Gives back room taken by {@link #tryReserve}. */
  private void cancelReservation(long items, long bytes) {
    reservedItems.addAndGet(-items);
    reservedBytes.addAndGet(-bytes);
  }

  private void dropOldest() {
    long dropped = 0;
    while (reservedItems.get() > queueConfig.maxItems() || reservedBytes.get() > queueConfig.maxBytes()) {
      QueuedSlot oldest = waiting.poll();
      if (oldest == null) {
        break; // only in-flight batches left: they finish or retry, then the bounds hold again
      }
      QueuedRequest r = oldest.request();
      cancelReservation(r.items(), r.bytes());
      heap.free(oldest.heap());
      if (durable != null) {
        durable.leftLine(oldest);
        durable.done(oldest);
      }
      dropped += r.items();
    }
    if (dropped > 0) {
      metrics.failed("drop_oldest", dropped);
      failureLog.log(Level.WARNING, "drop_oldest", "exporter " + exporterName + " (" + signal.id() + "): queue full, "
          + "dropped the oldest " + dropped + " " + signal.itemName() + " (when_full: drop_oldest)");
    }
  }

  /**
   * Adds a request for which room was reserved. Completes when it is queued: at once for a memory queue, after the
   * write-ahead log write (and fsync, per policy) for a persistent one; on a log failure the reservation is released.
   */
  private Future<Void> enqueue(QueuedRequest r, long cost) {
    if (durable == null) {
      add(QueuedSlot.inMemory(r, cost));
      return Future.succeededFuture();
    }
    return durable.append(r, cost).transform(ar -> {
      if (ar.failed()) {
        cancelReservation(r.items(), r.bytes());
        heap.free(cost);
        failureLog.log(Level.SEVERE, "wal", "exporter " + exporterName + " (" + signal.id() + "): "
            + ar.cause().getMessage() + "; refusing data until it works again");
        return Future.failedFuture(new RefusedException(RefusedException.Reason.NOT_READY,
            "the queue of exporter \"" + exporterName + "\" cannot write to disk; retry later"));
      }
      heap.free(cost - ar.result().heap()); // kept on disk only: nothing of it on the heap
      add(ar.result());
      return Future.succeededFuture();
    });
  }

  private void add(QueuedSlot slot) {
    waiting.add(slot);
    metrics.queued(slot.request().items());
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
      if (waiting.isEmpty()) {
        cancelBatchTimer();
        break;
      }
      long waitNanos = waiting.nanosUntilDue(System.nanoTime());
      if (!waiting.batchFull() && !stopping && waitNanos > 0) {
        scheduleBatchTimer(waitNanos);
        break;
      }
      cancelBatchTimer();
      List<QueuedSlot> batch = waiting.takeBatch();
      if (batch.isEmpty()) {
        break;
      }
      inFlight++;
      if (durable == null) {
        send(new Batch(batch), 0, System.nanoTime());
      } else {
        batch.forEach(durable::leftLine);
        loadThenSend(batch);
      }
    }
    checkDrained();
  }

  /** Reads spilled requests back from the write-ahead log, then sends the batch. */
  private void loadThenSend(List<QueuedSlot> batch) {
    durable.load(batch).onComplete(ar -> onContext(() -> {
      if (ar.succeeded()) {
        // Read back for sending: accepted data, charged whatever the ledger holds (at most concurrency batches).
        long loaded = 0;
        for (int i = 0; i < batch.size(); i++) {
          loaded += ar.result().get(i).heap() - batch.get(i).heap();
        }
        heap.charge(loaded);
        send(new Batch(ar.result()), 0, System.nanoTime());
        return;
      }
      // Left in the log (not marked done): a restart replays it. Counted so it is not silent.
      long items = batch.stream().mapToLong(s -> s.request().items()).sum();
      long bytes = batch.stream().mapToLong(s -> s.request().bytes()).sum();
      metrics.failed("wal_read_error", items);
      failureLog.log(Level.SEVERE, "wal-read", "exporter " + exporterName + " (" + signal.id() + "): cannot "
          + "read " + items + " " + signal.itemName() + " back from the write-ahead log (kept there for the next "
          + "start): " + ar.cause().getMessage());
      inFlight--;
      cancelReservation(items, bytes);
      heap.free(batch.stream().mapToLong(QueuedSlot::heap).sum());
      drain();
    }));
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
    final List<QueuedSlot> parts;
    final Message request;
    final int items;
    final int bytes;
    /** What its parts charged to the heap ledger; freed when the batch is done. */
    final long heapCharged;

    Batch(List<QueuedSlot> parts) {
      this.parts = parts;
      int i = 0;
      int b = 0;
      long h = 0;
      for (QueuedSlot p : parts) {
        i += p.request().items();
        b += p.request().bytes();
        h += p.heap();
      }
      this.items = i;
      this.bytes = b;
      this.heapCharged = h;
      if (parts.size() == 1) {
        this.request = parts.get(0).request().request();
      } else {
        List<Message> resources = new ArrayList<>();
        for (QueuedSlot p : parts) {
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
    if (Vertx.currentContext() == context) {
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
    for (QueuedSlot p : batch.parts) {
      metrics.latency(p.request().receivedNanos(), now);
    }
    if (abandoned && durable == null) {
      lostAtShutdown.addAndGet(-batch.items); // counted as lost when the timeout passed, delivered after all
    }
    finish(batch);
  }

  private void failed(Batch batch, int retry, long firstTryNanos, Throwable cause) {
    ExportException e = cause instanceof ExportException ee ? ee
        : new ExportException(String.valueOf(cause), true, null, "error", cause);
    RetryPolicy.Next next = retryPolicy.next(e, retry, firstTryNanos, System.nanoTime(), stopping,
        stopDeadlineNanos);
    if (next.retry()) {
      metrics.retried();
      failureLog.log(Level.WARNING, "retry:" + e.reason(), "exporter " + exporterName + " (" + signal.id()
          + "): export failed, retrying in " + next.delayMillis() + "ms: " + e.getMessage());
      context.owner().setTimer(next.delayMillis(), id -> send(batch, retry + 1, firstTryNanos));
    } else {
      giveUp(batch, next.giveUpReason(), e);
    }
  }

  private void giveUp(Batch batch, String reason, ExportException e) {
    if (abandoned) {
      // A send cut short after the shutdown timeout: its items were counted (lost or kept) when the timeout passed.
      inFlight--;
      return;
    }
    if (durable != null && reason.equals("shutdown")) {
      // Not given up at all: it stays in the write-ahead log and is sent after the next start (the gateway's last
      // log line says how many).
      keptAtShutdown += batch.items;
      inFlight--;
      cancelReservation(batch.items, batch.bytes);
      heap.free(batch.heapCharged);
      drain();
      return;
    }
    if (reason.equals("shutdown")) {
      lost(batch.items);
    } else {
      metrics.failed(reason, batch.items);
    }
    failureLog.log(Level.SEVERE, "drop:" + reason + ":" + e.reason(), "exporter " + exporterName + " ("
        + signal.id() + "): dropped " + batch.items + " " + signal.itemName() + " (" + reason + "): "
        + e.getMessage() + (deadLetters == null ? "" : "; written to " + deadLetters.path()));
    if (deadLetters != null) {
      byte[] line = new DeadLetter(exporterName, signal, reason, e.getMessage(), e.reason(), null, batch.items)
          .withRequest(OtlpJson.write(batch.request));
      deadLetters.append(List.of(line)).onFailure(x -> LOG.severe("exporter " + exporterName + " (" + signal.id()
          + "): " + batch.items + " " + signal.itemName() + " given up (" + reason + ") and not written to the "
          + "dead-letter file: " + x.getMessage()));
    }
    finish(batch);
  }

  private void finish(Batch batch) {
    inFlight--;
    cancelReservation(batch.items, batch.bytes);
    heap.free(batch.heapCharged);
    if (durable != null) {
      batch.parts.forEach(durable::done);
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
        if (!drained.future().isComplete()) {
          // Counted before completing: completing stops the exporter, which fails its sends on this thread.
          abandoned = true;
          long left = reservedItems.get();
          if (left > 0 && durable != null) {
            LOG.info("exporter " + exporterName + " (" + signal.id() + "): shutdown timeout; " + (left
                + keptAtShutdown) + " " + signal.itemName() + " stay in the write-ahead log for the next start");
          } else if (left > 0) {
            LOG.warning("exporter " + exporterName + " (" + signal.id() + "): shutdown timeout with " + left + " "
                + signal.itemName() + " undelivered (memory queue): lost");
            lost(left);
          }
          drained.tryComplete();
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
