package dev.telemetry.gateway.cluster;

import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
    // One ring lookup per span: owners in request order, reused when the request turns out to be mixed.
    String[] owners = new String[spanCount(request)];
    int n = 0;
    boolean mixed = false;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          owners[n] = ring.owner(s.getTraceId());
          mixed |= !owners[n].equals(owners[0]);
          n++;
        }
      }
    }
    if (!mixed) {
      return n == 0 ? Map.of() : Map.of(owners[0], request);
    }
    Map<String, ExportTraceServiceRequest.Builder> out = new HashMap<>(4);
    int at = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      Map<String, ResourceSpans.Builder> byOwner = new HashMap<>(4);
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        int count = ss.getSpansCount();
        if (count == 0) {
          continue;
        }
        boolean scopeMixed = false;
        for (int k = at + 1; k < at + count; k++) {
          scopeMixed |= !owners[k].equals(owners[at]);
        }
        if (!scopeMixed) {
          resource(byOwner, owners[at], rs).addScopeSpans(ss);
        } else {
          Map<String, ScopeSpans.Builder> scoped = new HashMap<>(4);
          for (int k = 0; k < count; k++) {
            scoped.computeIfAbsent(owners[at + k], o -> ScopeSpans.newBuilder().setScope(ss.getScope())
                .setSchemaUrl(ss.getSchemaUrl())).addSpans(ss.getSpans(k));
          }
          scoped.forEach((owner, b) -> resource(byOwner, owner, rs).addScopeSpans(b));
        }
        at += count;
      }
      byOwner.forEach((owner, b) -> out.computeIfAbsent(owner, k -> ExportTraceServiceRequest.newBuilder())
          .addResourceSpans(b));
    }
    Map<String, ExportTraceServiceRequest> built = new HashMap<>(out.size() * 2);
    out.forEach((owner, b) -> built.put(owner, b.build()));
    return built;
  }

  /**
   * The replicas of a request: for each member, the spans of the traces it succeeds the owner of (the owner's next
   * {@code copies} members on the ring). A span goes to up to {@code copies} members; a request whose spans share
   * their successors is returned as it is for each of them.
   */
  static Map<String, ExportTraceServiceRequest> replicas(ExportTraceServiceRequest request, HashRing ring,
                                                         int copies) {
    if (copies <= 0) {
      return Map.of();
    }
    List<List<String>> targets = new ArrayList<>(spanCount(request));
    ByteString lastId = null;
    List<String> last = null;
    boolean mixed = false;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          if (!s.getTraceId().equals(lastId)) {
            lastId = s.getTraceId();
            List<String> next = ring.successors(lastId, copies);
            mixed |= last != null && !next.equals(last);
            last = next;
          }
          targets.add(last);
        }
      }
    }
    if (!mixed) {
      if (last == null || last.isEmpty()) {
        return Map.of();
      }
      Map<String, ExportTraceServiceRequest> same = new HashMap<>(last.size() * 2);
      last.forEach(m -> same.put(m, request));
      return same;
    }
    Map<String, ExportTraceServiceRequest.Builder> out = new HashMap<>(4);
    int at = 0;
    for (ResourceSpans rs : request.getResourceSpansList()) {
      Map<String, ResourceSpans.Builder> byMember = new HashMap<>(4);
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        Map<String, ScopeSpans.Builder> scoped = new HashMap<>(4);
        for (Span s : ss.getSpansList()) {
          for (String m : targets.get(at)) {
            scoped.computeIfAbsent(m, k -> ScopeSpans.newBuilder().setScope(ss.getScope())
                .setSchemaUrl(ss.getSchemaUrl())).addSpans(s);
          }
          at++;
        }
        scoped.forEach((m, b) -> resource(byMember, m, rs).addScopeSpans(b));
      }
      byMember.forEach((m, b) -> out.computeIfAbsent(m, k -> ExportTraceServiceRequest.newBuilder())
          .addResourceSpans(b));
    }
    Map<String, ExportTraceServiceRequest> built = new HashMap<>(out.size() * 2);
    out.forEach((m, b) -> built.put(m, b.build()));
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
