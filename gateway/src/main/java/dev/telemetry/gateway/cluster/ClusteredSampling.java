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
 * forwarder for their owners; with replication, copies go to each trace's ring successors too (this member's own
 * copies into its replica store). Room is reserved everywhere before anything is committed, so the client hears
 * "retry" when any part is full and nothing is taken twice; its success waits until the owner and every successor
 * have the spans.
 */
final class ClusteredSampling implements SamplingStage {
  private final TailSampler local;
  private final Membership membership;
  private final Forwarder forwarder;
  private final ReplicaStore replicas;
  /** Successors holding a copy: replication factor minus one. */
  private final int copies;
  private final OwnerTaps taps;

  ClusteredSampling(TailSampler local, Membership membership, Forwarder forwarder, ReplicaStore replicas,
                    int copies, OwnerTaps taps) {
    this.taps = taps;
    this.local = local;
    this.membership = membership;
    this.forwarder = forwarder;
    this.replicas = replicas;
    this.copies = copies;
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
      return taps.tapped(local.reserve(request, destination), request);
    }
    String self = membership.self();
    Map<String, ExportTraceServiceRequest> byOwner = TraceSplitter.split(request, ring);
    Map<String, ExportTraceServiceRequest> copiesBySuccessor = TraceSplitter.replicas(request, ring, copies);
    ExportTraceServiceRequest mine = byOwner.get(self);
    if (mine != null && byOwner.size() == 1 && copiesBySuccessor.isEmpty()) {
      return taps.tapped(local.reserve(request, destination), request);
    }
    ExportTraceServiceRequest myCopy = copiesBySuccessor.get(self);
    long remote = 0;
    for (Map.Entry<String, ExportTraceServiceRequest> e : byOwner.entrySet()) {
      if (!e.getKey().equals(self)) {
        remote += e.getValue().getSerializedSize();
      }
    }
    for (Map.Entry<String, ExportTraceServiceRequest> e : copiesBySuccessor.entrySet()) {
      if (!e.getKey().equals(self)) {
        remote += e.getValue().getSerializedSize();
      }
    }
    List<java.util.function.Supplier<Reservation>> parts = new ArrayList<>(3);
    if (remote > 0) {
      long forwarded = remote;
      parts.add(() -> forwarder.reserve(forwarded, () -> parts(byOwner, copiesBySuccessor, self, destination)));
    }
    if (mine != null) {
      parts.add(() -> taps.tapped(local.reserve(mine, destination), mine));
    }
    if (myCopy != null) {
      parts.add(() -> {
        try {
          return replicas.reserve(local.name(), destination.exporters(), myCopy.toByteString());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException("a request encoded here does not scan", e);
        }
      });
    }
    return Reservation.all(parts.size(), i -> parts.get(i).get());
  }

  /** The parts for the other members (their traces, and copies of the traces they succeed), encoded for the wire. */
  private List<Map.Entry<String, ForwardReceiver.Part>> parts(Map<String, ExportTraceServiceRequest> byOwner,
                                                              Map<String, ExportTraceServiceRequest> copiesBySuccessor,
                                                              String self, Destination destination) {
    List<Map.Entry<String, ForwardReceiver.Part>> out = new ArrayList<>(byOwner.size() + copiesBySuccessor.size());
    // A request whose traces all share owner and successors is the same object in both maps: encoded once.
    Map<ExportTraceServiceRequest, com.google.protobuf.ByteString> encoded = new java.util.IdentityHashMap<>(4);
    add(out, byOwner, ForwardReceiver.Kind.TRAFFIC, self, destination, encoded);
    add(out, copiesBySuccessor, ForwardReceiver.Kind.REPLICA, self, destination, encoded);
    return out;
  }

  private void add(List<Map.Entry<String, ForwardReceiver.Part>> out, Map<String, ExportTraceServiceRequest> to,
                   ForwardReceiver.Kind kind, String self, Destination destination,
                   Map<ExportTraceServiceRequest, com.google.protobuf.ByteString> encoded) {
    for (Map.Entry<String, ExportTraceServiceRequest> e : to.entrySet()) {
      if (!e.getKey().equals(self)) {
        out.add(Map.entry(e.getKey(), new ForwardReceiver.Part(local.name(), destination.exporters(),
            encoded.computeIfAbsent(e.getValue(), ExportTraceServiceRequest::toByteString), kind, 0,
            TraceSplitter.spanCount(e.getValue()))));
      }
    }
  }
}
