package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.backpressure.RefusedException;
import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.routing.RouteMatcher;
import dev.telemetry.gateway.routing.RouteTables;
import io.vertx.core.Future;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * All pipelines of the gateway, routing each request by signal. Refuses everything with NOT_READY until
 * {@link #open()} and after {@link #close()}, which brackets the time all exporters are running.
 */
public final class Pipelines implements TelemetryConsumer {
  private final Map<Signal, Pipeline> bySignal = new EnumMap<>(Signal.class);
  private final Map<Signal, Set<String>> receiversBySignal = new EnumMap<>(Signal.class);
  private volatile boolean open;
  private RouteTables routes;
  private MemoryGuard memory;
  private Admission admission;
  private Authentication authentication;

  /** Authenticates every request through {@code authentication} (set before open). */
  public void authenticateBy(Authentication authentication) {
    this.authentication = authentication;
  }

  @Override
  public RequestHeaders authenticate(String receiver, Signal signal, RequestHeaders headers) {
    Authentication a = authentication;
    return a == null ? headers : headers.authenticatedAs(a.authenticate(receiver, signal, headers));
  }

  /** Admits each request through {@code admission} first (tenant quotas; set before open). */
  public void admitBy(Admission admission) {
    this.admission = admission;
  }

  /** Refuses data while {@code guard} says the heap is over its limit (set before open). */
  public void guardMemory(MemoryGuard guard) {
    this.memory = guard;
  }

  private dev.telemetry.gateway.console.SampleBook samples;

  /** Offers every request it accepts for the console's samples (set before open). */
  public void sampleInto(dev.telemetry.gateway.console.SampleBook samples) {
    this.samples = samples;
  }

  /** Routes requests by the live table of {@code routes} (set before open). */
  public void routeBy(RouteTables routes) {
    this.routes = routes;
  }

  public void add(Pipeline pipeline, Set<String> receivers) {
    bySignal.put(pipeline.signal(), pipeline);
    receiversBySignal.put(pipeline.signal(), Set.copyOf(receivers));
  }

  public Iterable<Pipeline> all() {
    return bySignal.values();
  }

  public void open() {
    open = true;
  }

  public void close() {
    open = false;
  }

  @Override
  public boolean accepts(String receiver, Signal signal) {
    Set<String> r = receiversBySignal.get(signal);
    return r != null && r.contains(receiver);
  }

  /**
   * Traces for a pipeline that {@link Pipeline#takesEncoded takes them encoded}, when nothing before it needs them
   * decoded either (no routing table, no tenant quotas).
   */
  @Override
  public EncodedIntake consumeEncoded(String receiver, Signal signal, byte[] request, RequestHeaders headers) {
    if (signal != Signal.TRACES || routes != null || admission != null) {
      return null;
    }
    Pipeline p = bySignal.get(signal);
    if (p == null || !p.takesEncoded() || !accepts(receiver, signal)) {
      return null;
    }
    dev.telemetry.gateway.processor.sampling.EncodedSpans spans;
    try {
      spans = p.readEncoded(com.google.protobuf.UnsafeByteOperations.unsafeWrap(request));
    } catch (java.io.IOException | RuntimeException e) {
      return null; // decoding it reports the problem as it always has
    }
    if (spans == null) {
      return null;
    }
    if (spans.spanCount() == 0) {
      return new EncodedIntake(0, Future.succeededFuture()); // as an empty decoded request: nothing to refuse
    }
    Future<Void> closed = refusedWhileClosed();
    if (closed != null) {
      return new EncodedIntake(spans.spanCount(), closed);
    }
    if (samples != null) {
      samples.offer(signal, receiver, headers.get(RequestHeaders.AUTHENTICATED_TENANT), () -> {
        try {
          return signal.parseRequest(request);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null; // not after WireScan, which holds requests to what decoding does; then no sample
        }
      }, spans.spanCount(), request.length);
    }
    return new EncodedIntake(spans.spanCount(), p.offerEncoded(spans));
  }

  /** NOT_READY before open and after close, MEMORY_LIMIT while the heap is over its limit; else null. */
  private Future<Void> refusedWhileClosed() {
    if (!open) {
      return Future.failedFuture(new RefusedException(RefusedException.Reason.NOT_READY,
          "the gateway is not ready (starting or shutting down); retry later"));
    }
    if (memory != null && memory.overLimit()) {
      return Future.failedFuture(new RefusedException(RefusedException.Reason.MEMORY_LIMIT,
          "the gateway is at its memory limit; retry later"));
    }
    return null;
  }

  @Override
  public Future<Void> consume(String receiver, Signal signal, Message request, int items, int bytes,
                              RequestHeaders headers) {
    Future<Void> closed = refusedWhileClosed();
    if (closed != null) {
      return closed;
    }
    Pipeline p = bySignal.get(signal);
    if (p == null || !accepts(receiver, signal)) {
      return Future.failedFuture(new IllegalStateException("no " + signal.id() + " pipeline for " + receiver));
    }
    RouteMatcher matcher = routes == null ? null : routes.current();
    String header = matcher == null ? null : matcher.table().tenant().header();
    // With authentication the credential's tenant is the tenant: no header or attribute chooses another.
    String tenant = headers.get(RequestHeaders.AUTHENTICATED_TENANT);
    if (tenant == null && authentication == null && header != null) {
      tenant = headers.get(header);
    }
    if (samples != null) {
      samples.offer(signal, receiver, tenant, request, items, bytes);
    }
    if (admission == null) {
      return p.offer(request, items, bytes, matcher, tenant);
    }
    dev.telemetry.gateway.backpressure.Reservation admitted;
    try {
      admitted = admission.reserve(signal, request, items, bytes, matcher, tenant);
    } catch (RefusedException e) {
      return Future.failedFuture(e);
    }
    Future<Void> offered = p.offer(request, items, bytes, matcher, tenant);
    return offered.andThen(ar -> {
      if (ar.succeeded()) {
        admitted.commit();
      } else {
        admitted.release(); // refused further on: the client retries, and is charged then
      }
    });
  }
}
