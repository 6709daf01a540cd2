package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.backpressure.Reservation;
import dev.telemetry.gateway.processor.sampling.SamplingStage;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A tail-sampling stage in a cluster: spans of traces this member owns go into the local sampler, the rest to the
 * forwarder for their owners. Room is reserved in both before anything is committed, so the client hears "retry"
 * when either is full and nothing is taken twice.
 */
final class ClusteredSampling implements SamplingStage {
  private final TailSampler local;
  private final Membership membership;
  private final Forwarder forwarder;

  ClusteredSampling(TailSampler local, Membership membership, Forwarder forwarder) {
    this.local = local;
    this.membership = membership;
    this.forwarder = forwarder;
  }

  @Override
  public String name() {
    return local.name();
  }

  @Override
  public Reservation reserve(ExportTraceServiceRequest request, Destination destination) {
    HashRing ring = membership.ring();
    if (ring.isEmpty()) {
      // No member is ready yet (this one is starting alone): decide here.
      return local.reserve(request, destination);
    }
    String self = membership.self();
    Map<String, ExportTraceServiceRequest> byOwner = TraceSplitter.split(request, ring);
    ExportTraceServiceRequest mine = byOwner.get(self);
    if (mine != null && byOwner.size() == 1) {
      return local.reserve(request, destination);
    }
    long remote = 0;
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      if (!e.getKey().equals(self)) {
        remote += e.getValue().getSerializedSize();
      }
    }
    long forwarded = remote;
    return Reservation.all(mine == null ? 1 : 2, i -> i == 0 ? forwarder.reserve(forwarded, () -> parts(byOwner,
        self, destination)) : local.reserve(mine, destination));
  }

  /** The parts for the other members' traces, encoded for the wire. */
  private List<Map.Entry<String, ForwardReceiver.Part>> parts(Map<String, ExportTraceServiceRequest> byOwner,
                                                              String self, Destination destination) {
    List<Map.Entry<String, ForwardReceiver.Part>> out = new ArrayList<>(byOwner.size());
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      if (!e.getKey().equals(self)) {
        out.add(Map.entry(e.getKey(), new ForwardReceiver.Part(local.name(), destination.exporters(),
            e.getValue().toByteString(), false, 0, TraceSplitter.spanCount(e.getValue()))));
      }
    }
    return out;
  }
}
