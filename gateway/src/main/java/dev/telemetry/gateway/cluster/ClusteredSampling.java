package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.processor.sampling.Destination;
import dev.telemetry.gateway.processor.sampling.SamplerFullException;
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
  public Reservation reserve(ExportTraceServiceRequest request) {
    HashRing ring = membership.ring();
    if (ring.isEmpty()) {
      return local.reserve(request); // no member is ready yet (this one is starting alone): decide here
    }
    String self = membership.self();
    Map<String, ExportTraceServiceRequest> byOwner = TraceSplitter.split(request, ring);
    ExportTraceServiceRequest mine = byOwner.get(self);
    if (mine != null && byOwner.size() == 1) {
      return local.reserve(request);
    }
    long remote = 0;
    List<Map.Entry<String, ExportTraceServiceRequest>> others = new ArrayList<>(byOwner.size());
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      if (!e.getKey().equals(self)) {
        others.add(e);
        remote += e.getValue().getSerializedSize();
      }
    }
    if (!forwarder.tryReserve(remote)) {
      return null;
    }
    Reservation localPart = null;
    if (mine != null) {
      localPart = local.reserve(mine);
      if (localPart == null) {
        forwarder.cancel(remote);
        return null;
      }
    }
    Reservation held = localPart;
    long reserved = remote;
    return new Reservation() {
      @Override
      public void commit(Destination destination) {
        if (held != null) {
          held.commit(destination);
        }
        for (Map.Entry<String, ExportTraceServiceRequest> e : others) {
          forwarder.enqueue(e.getKey(), new ForwardReceiver.Part(local.name(), destination.exporters(),
              e.getValue().toByteString(), false, 0, TraceSplitter.spanCount(e.getValue())));
        }
      }

      @Override
      public void release() {
        if (held != null) {
          held.release();
        }
        forwarder.cancel(reserved);
      }
    };
  }

  @Override
  public SamplerFullException full() {
    return new SamplerFullException("tail sampler \"" + local.name() + "\" or the cluster forwarding queue is full; "
        + "retry later");
  }
}
