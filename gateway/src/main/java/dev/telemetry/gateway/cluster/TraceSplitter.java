package dev.telemetry.gateway.cluster;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.HashMap;
import java.util.Map;

/**
 * Splits a traces request by the ring member owning each span's trace, keeping resource and scope grouping. The
 * common cases copy nothing: a request whose spans all belong to one member is returned as it is, and a scope whose
 * spans share an owner is reused whole.
 */
final class TraceSplitter {
  private TraceSplitter() {
  }

  static Map<String, ExportTraceServiceRequest> split(ExportTraceServiceRequest request, HashRing ring) {
    String only = null;
    boolean mixed = false;
    outer:
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          String owner = ring.owner(s.getTraceId());
          if (only == null) {
            only = owner;
          } else if (!only.equals(owner)) {
            mixed = true;
            break outer;
          }
        }
      }
    }
    if (!mixed) {
      return only == null ? Map.of() : Map.of(only, request);
    }
    Map<String, ExportTraceServiceRequest.Builder> out = new HashMap<>(4);
    for (ResourceSpans rs : request.getResourceSpansList()) {
      Map<String, ResourceSpans.Builder> byOwner = new HashMap<>(4);
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        Map<String, ScopeSpans.Builder> scoped = new HashMap<>(4);
        String scopeOwner = null;
        boolean scopeMixed = false;
        for (Span s : ss.getSpansList()) {
          String owner = ring.owner(s.getTraceId());
          scopeMixed |= scopeOwner != null && !scopeOwner.equals(owner);
          scopeOwner = owner;
          scoped.computeIfAbsent(owner, k -> ScopeSpans.newBuilder().setScope(ss.getScope())
              .setSchemaUrl(ss.getSchemaUrl())).addSpans(s);
        }
        if (scopeOwner == null) {
          continue;
        }
        if (!scopeMixed) {
          resource(byOwner, scopeOwner, rs).addScopeSpans(ss);
        } else {
          scoped.forEach((owner, b) -> resource(byOwner, owner, rs).addScopeSpans(b));
        }
      }
      byOwner.forEach((owner, b) -> out.computeIfAbsent(owner, k -> ExportTraceServiceRequest.newBuilder())
          .addResourceSpans(b));
    }
    Map<String, ExportTraceServiceRequest> built = new HashMap<>(out.size() * 2);
    out.forEach((owner, b) -> built.put(owner, b.build()));
    return built;
  }

  private static ResourceSpans.Builder resource(Map<String, ResourceSpans.Builder> byOwner, String owner,
                                                ResourceSpans rs) {
    return byOwner.computeIfAbsent(owner, k -> ResourceSpans.newBuilder().setResource(rs.getResource())
        .setSchemaUrl(rs.getSchemaUrl()));
  }

  static int spanCount(ExportTraceServiceRequest r) {
    int n = 0;
    for (ResourceSpans rs : r.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    return n;
  }
}
