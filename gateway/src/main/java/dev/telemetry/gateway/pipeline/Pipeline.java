package dev.telemetry.gateway.pipeline;

import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.Downstream;
import dev.telemetry.gateway.processor.EncodedSpanProcessor;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.EncodedSpans;
import dev.telemetry.gateway.processor.sampling.SamplingStage;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import dev.telemetry.gateway.pipeline.Branches.Branch;
import dev.telemetry.gateway.routing.ElasticsearchStamp;
import dev.telemetry.gateway.routing.RouteMatcher;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One signal's path from receivers to exporters: the processors in order, then the exporter queues. A request is
 * accepted only if every exporter queue has room for it (all-or-nothing fan-out), so a slow backend back-pressures
 * clients instead of being silently skipped, and a client retry never duplicates data into the queues that did take
 * it.
 */
public final class Pipeline {
  private final Signal signal;
  private final List<Processor> processors;
  private final List<ExporterQueue> queues;
  private final SamplingStage sampler;
  private List<Connector> taps = List.of();
  private final Branches branches;
  /** The processors as {@link EncodedSpanProcessor}s when every one of them takes encoded spans, else null. */
  private final List<EncodedSpanProcessor> encodedProcessors;

  public Pipeline(Signal signal, List<ExporterQueue> queues) {
    this(signal, List.of(), null, queues, Map.of(), Map.of());
  }

  public Pipeline(Signal signal, List<Processor> processors, SamplingStage sampler, List<ExporterQueue> queues) {
    this(signal, processors, sampler, queues, Map.of(), Map.of());
  }

  /**
   * {@code sampler} (traces only, may be null) is the last stage: requests go into its buffer, and what it samples
   * comes back through {@link #offerToQueues}. With routing: {@code routable} are the processors routes may name
   * (redaction profiles), {@code samplers} the sampling stages they may name (policy sets); both by name.
   */
  public Pipeline(Signal signal, List<Processor> processors, SamplingStage sampler, List<ExporterQueue> queues,
                  Map<String, Processor> routable, Map<String, SamplingStage> samplers) {
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("a pipeline needs at least one exporter");
    }
    this.signal = signal;
    this.processors = List.copyOf(processors);
    this.queues = List.copyOf(queues);
    this.sampler = sampler;
    if (sampler instanceof TailSampler local) {
      local.downstream(downstream());
    }
    this.branches = new Branches(signal, this.queues, sampler, routable, samplers);
    List<EncodedSpanProcessor> encoded = new ArrayList<>();
    for (Processor p : this.processors) {
      if (p instanceof EncodedSpanProcessor e && e.takesEncodedSpans()) {
        encoded.add(e);
      } else {
        encoded = null;
        break;
      }
    }
    this.encodedProcessors = encoded == null ? null : List.copyOf(encoded);
  }

  /**
   * Connectors this pipeline exports to: each accepted request, after the pipeline's processors and before routing
   * and sampling, is handed to them (set before the pipeline opens).
   */
  public void tap(List<Connector> connectors) {
    this.taps = List.copyOf(connectors);
  }

  public Signal signal() {
    return signal;
  }

  public List<ExporterQueue> queues() {
    return queues;
  }

  /** The sampling stage of this pipeline, or null. */
  public SamplingStage sampler() {
    return sampler;
  }

  /** The pipeline's own exporter queues as the sampler's downstream. */
  public Downstream downstream() {
    return new QueueFanOut(queues);
  }

  /** Where kept spans for these exporters go (null: the pipeline's own); see {@link Branches#destination}. */
  public Destination destination(List<String> exporters) {
    return branches.destination(exporters);
  }

  /**
   * Offers a decoded, validated request. Completes once it is in every exporter queue, or fails with
   * {@link RefusedException} (QUEUE_FULL) without having queued anything. Thread-safe and non-blocking.
   */
  public Future<Void> offer(Message request, int items, int bytes) {
    return offer(request, items, bytes, null, null);
  }

  /**
   * As {@link #offer(Message, int, int)}, routed by {@code matcher} when not null: the request is split by route,
   * each part goes through its route's redaction profile and sampler into its route's exporter queues, all parts or
   * none. {@code tenant} is the tenant header's value, if any.
   */
  public Future<Void> offer(Message request, int items, int bytes, RouteMatcher matcher, String tenant) {
    if (!processors.isEmpty()) {
      Message processed = request;
      try {
        for (Processor p : processors) {
          processed = p.process(signal, processed);
        }
      } catch (RuntimeException e) {
        return Future.failedFuture(new IllegalStateException("a processor failed: " + e, e));
      }
      if (processed != request) {
        request = processed;
        items = signal.itemCount(processed);
        // The sampler sizes each span it buffers; only queues and routes need the request's size.
        bytes = matcher == null && sampler != null ? -1 : processed.getSerializedSize();
        if (items == 0) {
          return Future.succeededFuture();
        }
      }
    }
    Future<Void> offered;
    if (matcher != null) {
      offered = offerRouted(request, items, bytes, matcher, tenant);
    } else if (sampler != null) {
      ExportTraceServiceRequest traces = (ExportTraceServiceRequest) request;
      offered = commit(() -> sampler.reserve(traces, Destination.DEFAULT));
    } else {
      offered = offerToQueues(request, items, bytes);
    }
    if (taps.isEmpty()) {
      return offered;
    }
    // Once accepted, and only then: a refused request comes back, and would be counted twice.
    Message accepted = request;
    return offered.onSuccess(v -> {
      for (Connector c : taps) {
        c.take(accepted, tenant);
      }
    });
  }

  /**
   * Whether a traces request can be taken still encoded ({@link #readEncoded}): nothing after the receivers needs it
   * decoded — no connector, a tail sampler of this process as the last stage, and processors that all work on
   * encoded spans. Then most spans go into the sampler's buffer without ever being decoded.
   */
  public boolean takesEncoded() {
    return taps.isEmpty() && sampler instanceof TailSampler && encodedProcessors != null;
  }

  /**
   * Reads a protobuf traces request as a client sent it (checked by {@code WireScan}, strings included) through the
   * processors; null when it must be decoded after all (a span with an invalid ID: validation rejects that span
   * alone). Only when {@link #takesEncoded}. Throws for bytes that are not a traces request.
   */
  public EncodedSpans readEncoded(ByteString request) throws java.io.IOException {
    return ((TailSampler) sampler).readReceived(request, encodedProcessors);
  }

  /**
   * Runs this pipeline's processors and sampler over the warm-up's synthetic request of its signal, {@code rounds}
   * times, before the gateway is ready: the decoded path through each processor's {@link Processor#warmUpCopy copy}
   * (processors without one are skipped) into the tail sampler's span encoding, and the encoded path when this
   * pipeline {@link #takesEncoded takes traces encoded}. Nothing is offered, buffered or counted by a meter of the
   * pipeline's. Returns the items that went through.
   */
  public long warmUp(int rounds) {
    List<Processor> copies = processors.stream().map(Processor::warmUpCopy).filter(java.util.Objects::nonNull)
        .toList();
    long items = 0;
    if (!copies.isEmpty() || sampler instanceof TailSampler) {
      Message synthetic = dev.telemetry.gateway.otlp.Warmup.request(signal);
      for (int r = 0; r < rounds; r++) {
        Message m = synthetic;
        for (Processor p : copies) {
          m = p.process(signal, m);
        }
        items += sampler instanceof TailSampler local ? local.warmUp((ExportTraceServiceRequest) m)
            : signal.itemCount(m);
      }
    }
    return items + warmUpEncoded(rounds);
  }

  /**
   * Runs the encoded path's code over the synthetic traces request {@code rounds} times when this pipeline takes
   * traces encoded (see {@code Warmup}): the sampler's reader, and each processor's {@link
   * EncodedSpanProcessor#warmUpStandIn stand-in} — the pipeline's own processors are not called, so no meter of
   * theirs counts synthetic spans. Nothing is offered. Returns the spans read.
   */
  private long warmUpEncoded(int rounds) {
    if (!takesEncoded()) {
      return 0;
    }
    byte[] synthetic = dev.telemetry.gateway.otlp.Warmup.encodedTraces();
    List<EncodedSpanProcessor> stand = encodedProcessors.stream().map(EncodedSpanProcessor::warmUpStandIn)
        .filter(java.util.Objects::nonNull).toList();
    long spans = 0;
    try {
      for (int r = 0; r < rounds; r++) {
        EncodedSpans read = ((TailSampler) sampler).readReceived(UnsafeByteOperations.unsafeWrap(synthetic), stand);
        spans += read == null ? 0 : read.spanCount();
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException("the synthetic traces request did not read: " + e.getMessage(), e);
    }
    return spans;
  }

  /** Offers what {@link #readEncoded} read, as {@link #offer(Message, int, int)} offers a decoded request. */
  public Future<Void> offerEncoded(EncodedSpans spans) {
    if (spans.spanCount() == 0) {
      return Future.succeededFuture();
    }
    return commit(() -> ((TailSampler) sampler).reserve(spans));
  }

  private Future<Void> offerRouted(Message request, int items, int bytes, RouteMatcher matcher, String tenant) {
    List<RouteMatcher.Part> parts = matcher.route(signal, request, items, tenant);
    List<Prepared> prepared = new ArrayList<>(parts.size());
    try {
      for (RouteMatcher.Part part : parts) {
        if (part.request() == null) {
          continue; // dropped by rule (counted by the matcher)
        }
        Branch b = branches.of(matcher, part.route());
        Message r = part.request();
        int n = part.items();
        if (b.redaction() != null) {
          Message redacted = b.redaction().process(signal, r);
          if (redacted != r) {
            r = redacted;
            n = signal.itemCount(r);
          }
        }
        if (b.elasticsearch() != null && signal == Signal.LOGS) {
          r = ElasticsearchStamp.apply((ExportLogsServiceRequest) r, b.elasticsearch());
        }
        if (n > 0) {
          prepared.add(new Prepared(b, r, n, r == request ? bytes : r.getSerializedSize()));
        }
      }
    } catch (RuntimeException e) {
      return Future.failedFuture(new IllegalStateException("a processor failed: " + e, e));
    }
    // All or nothing: reserve room in every queue and sampler first, then commit.
    return commit(() -> Reservation.all(prepared.size(), i -> {
      Prepared p = prepared.get(i);
      SamplingStage stage = p.branch().sampler();
      return stage != null ? stage.reserve((ExportTraceServiceRequest) p.request(), p.branch().destination())
          : reserve(p.branch().queues(), p::request, p.items(), p.bytes());
    }));
  }

  private record Prepared(Branch branch, Message request, int items, int bytes) {
  }

  /**
   * The fan-out into the exporter queues, all or nothing; completes when every queue has the request (at once for
   * memory queues, after the write-ahead log for persistent ones).
   */
  public Future<Void> offerToQueues(Message request, int items, int bytes) {
    return offerToQueues(queues, () -> request, items, bytes);
  }

  /** As {@link #offerToQueues(Message, int, int)}, building the request only once every queue has room. */
  public Future<Void> offerToQueues(Supplier<? extends Message> request, int items, int bytes) {
    return offerToQueues(queues, request, items, bytes);
  }

  static Future<Void> offerToQueues(List<ExporterQueue> queues, Supplier<? extends Message> request, int items,
                                    int bytes) {
    return commit(() -> reserve(queues, request, items, bytes));
  }

  /** Room in every queue, or a refusal having taken none; the queues share one request, built once. */
  private static Reservation reserve(List<ExporterQueue> queues, Supplier<? extends Message> request, int items,
                                     int bytes) {
    Supplier<Message> once = once(request);
    return Reservation.all(queues.size(), i -> queues.get(i).reserve(once, items, bytes));
  }

  /** {@code request}, built at most once (called on one thread). */
  static Supplier<Message> once(Supplier<? extends Message> request) {
    return new Supplier<>() {
      private Message built;

      @Override
      public Message get() {
        if (built == null) {
          built = request.get();
        }
        return built;
      }
    };
  }

  /** Reserves, then commits: a refusal becomes the failed future the receivers answer with. */
  private static Future<Void> commit(Supplier<Reservation> reserve) {
    try {
      return reserve.get().commit();
    } catch (RefusedException e) {
      return Future.failedFuture(e);
    }
  }
}
