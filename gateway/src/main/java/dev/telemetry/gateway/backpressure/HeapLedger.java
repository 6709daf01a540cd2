package dev.telemetry.gateway.backpressure;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that data on its way through the gateway holds — requests being decoded, spans in tail-sampler buffers,
 * kept traces waiting for a queue, requests in memory queues, parts waiting to be forwarded — charged at its measured
 * heap cost <em>before</em> it is allocated, against one limit for the whole process. A holder that cannot charge
 * refuses the data (429 / RESOURCE_EXHAUSTED), so the heap stays under its limit whatever the backends do, instead
 * of a collector noticing a full heap after the fact.
 *
 * <p>Thread-safe and lock-free: one atomic counter. Holders free exactly what they charged when the data leaves.
 */
public final class HeapLedger {
  private final long limit;
  private final AtomicLong held = new AtomicLong();
  private final Counter refusals;

  /** A ledger of {@code limitBytes}; {@code Long.MAX_VALUE} for none. Its gauges go to {@code registry}. */
  public HeapLedger(long limitBytes, MeterRegistry registry) {
    this.limit = limitBytes;
    Gauge.builder("gateway.memory.charged", held::get).baseUnit("bytes")
        .description("Heap charged by data held on the path (receivers, samplers, queues, forwarders)")
        .register(registry);
    Gauge.builder("gateway.memory.charge.limit", () -> limit == Long.MAX_VALUE ? Double.NaN : limit)
        .baseUnit("bytes").description("Heap the data path may hold; past it new data is refused")
        .register(registry);
    this.refusals = Counter.builder("gateway.memory.charge.refusals")
        .description("Charges refused because the data path held its limit").register(registry);
  }

  private HeapLedger() {
    this.limit = Long.MAX_VALUE;
    this.refusals = null;
  }

  /** A ledger that never refuses (components used on their own: tests, benchmarks). */
  public static HeapLedger unbounded() {
    return new HeapLedger();
  }

  /**
   * Charges {@code bytes}, or returns false having charged nothing when that would pass the limit. A charge is
   * taken when nothing else is held, however large, so that one request larger than the limit is not refused forever
   * (its own bounds, such as {@code max_request_bytes}, cap it).
   */
  public boolean tryCharge(long bytes) {
    long after = held.addAndGet(bytes);
    if (after > limit && after != bytes) {
      held.addAndGet(-bytes);
      if (refusals != null) {
        refusals.increment();
      }
      return false;
    }
    return true;
  }

  /** Charges beyond the limit: data that was acknowledged already (replay, hand-over) is held whatever it costs. */
  public void charge(long bytes) {
    held.addAndGet(bytes);
  }

  public void free(long bytes) {
    held.addAndGet(-bytes);
  }

  /** Charges {@code bytes} as a {@link Reservation}: committing keeps the charge (the holder frees it later). */
  public Reservation reserve(long bytes) {
    if (!tryCharge(bytes)) {
      throw full();
    }
    return new Reservation() {
      @Override
      public io.vertx.core.Future<Void> commit() {
        return io.vertx.core.Future.succeededFuture();
      }

      @Override
      public void release() {
        free(bytes);
      }
    };
  }

  /** The refusal for data that found the ledger full. */
  public RefusedException full() {
    return new RefusedException(RefusedException.Reason.MEMORY_LIMIT, "the gateway holds " + (held.get() >> 20)
        + " MiB of data, its memory limit (" + (limit >> 20) + " MiB, memory_limit.charged_heap_percent); retry "
        + "later");
  }

  public long held() {
    return held.get();
  }

  public long limit() {
    return limit;
  }
}
