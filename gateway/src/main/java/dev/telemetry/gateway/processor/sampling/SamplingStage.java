package dev.telemetry.gateway.processor.sampling;

import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.backpressure.Reservation;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/**
 * Where the pipeline hands spans for tail sampling: the local {@link TailSampler}, or in a cluster a stage that sends
 * each trace's spans to the member owning it. Taking spans is a {@link Reservation}, so that a request fanned out to
 * several stages and queues is taken by all of them or by none.
 */
public interface SamplingStage {
  /** The tail_sampling processor (policy set) this stage decides with. */
  String name();

  /**
   * Reserves room for the request (any thread, never blocks); committing hands it over and kept spans go to
   * {@code destination}. Throws {@link RefusedException} when there is no room (tell the client to retry).
   */
  Reservation reserve(ExportTraceServiceRequest request, Destination destination);
}
