package dev.telemetry.gateway.processor.sampling;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/**
 * Where the pipeline hands spans for tail sampling: the local {@link TailSampler}, or in a cluster a stage that sends
 * each trace's spans to the member owning it. Taking spans is two-phase so that a request fanned out to several
 * stages and queues is taken by all of them or by none.
 */
public interface SamplingStage {
  /** The tail_sampling processor (policy set) this stage decides with. */
  String name();

  /** Reserves room for the request (any thread, never blocks); null when there is none (tell the client to retry). */
  Reservation reserve(ExportTraceServiceRequest request);

  /** The refusal to answer with when {@link #reserve} returned null. */
  SamplerFullException full();

  /** Room held for one request: committed exactly once, or released. */
  interface Reservation {
    /** Hands the request over; kept spans go to {@code destination}. */
    void commit(Destination destination);

    void release();
  }
}
