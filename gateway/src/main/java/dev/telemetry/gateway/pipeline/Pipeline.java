package dev.telemetry.gateway.pipeline;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.Processor;
import dev.telemetry.gateway.processor.sampling.SamplerFullException;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import java.util.List;

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
  private final TailSampler sampler;

  public Pipeline(Signal signal, List<ExporterQueue> queues) {
    this(signal, List.of(), null, queues);
  }

  /**
   * {@code sampler} (traces only, may be null) is the last stage: requests go into its buffer, and what it samples
   * comes back through {@link #offerToQueues}.
   */
  public Pipeline(Signal signal, List<Processor> processors, TailSampler sampler, List<ExporterQueue> queues) {
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("a pipeline needs at least one exporter");
    }
    this.signal = signal;
    this.processors = List.copyOf(processors);
    this.queues = List.copyOf(queues);
    this.sampler = sampler;
    if (sampler != null) {
      sampler.downstream(this::offerToQueues);
    }
  }

  public Signal signal() {
    return signal;
  }

  public List<ExporterQueue> queues() {
    return queues;
  }

  /** The tail sampler of this pipeline, or null. */
  public TailSampler sampler() {
    return sampler;
  }

  /**
   * Offers a decoded, validated request. Completes once it is in every exporter queue, or fails with
   * {@link PipelineRefusedException} (QUEUE_FULL) without having queued anything. Thread-safe and non-blocking.
   */
  public Future<Void> offer(Message request, int items, int bytes) {
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
        bytes = processed.getSerializedSize();
        if (items == 0) {
          return Future.succeededFuture();
        }
      }
    }
    if (sampler != null) {
      return sampler.accept((ExportTraceServiceRequest) request).recover(e -> Future.failedFuture(
          e instanceof SamplerFullException ? new PipelineRefusedException(PipelineRefusedException.Reason.QUEUE_FULL,
              e.getMessage()) : e));
    }
    return offerToQueues(request, items, bytes);
  }

  /** The fan-out into the exporter queues, all or nothing; completes at once. */
  public Future<Void> offerToQueues(Message request, int items, int bytes) {
    for (int i = 0; i < queues.size(); i++) {
      if (!queues.get(i).tryReserve(items, bytes)) {
        for (int j = 0; j < i; j++) {
          queues.get(j).cancelReservation(items, bytes);
        }
        ExporterQueue full = queues.get(i);
        return Future.failedFuture(new PipelineRefusedException(PipelineRefusedException.Reason.QUEUE_FULL,
            "the queue of exporter \"" + full.exporterName() + "\" is full; retry later"));
      }
    }
    QueuedRequest r = new QueuedRequest(request, items, bytes, System.nanoTime());
    for (ExporterQueue q : queues) {
      q.enqueue(r);
    }
    return Future.succeededFuture();
  }
}
