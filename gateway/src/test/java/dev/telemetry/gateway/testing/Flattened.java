package dev.telemetry.gateway.testing;

import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Export requests reduced to (resource, scope, item) triples, sorted, so that two sets of requests compare equal
 * exactly when they carry the same items with the same resource and scope, however they were batched.
 */
public final class Flattened {
  private Flattened() {
  }

  /** One item with the resource and scope it belongs to. */
  public record Item(Message resource, Message scope, Message item) {
  }

  private static final Comparator<Item> ORDER = Comparator.comparing(i -> i.item().toByteString().toStringUtf8());

  public static List<Item> spans(Collection<ExportTraceServiceRequest> requests) {
    List<Item> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : requests) {
      r.getResourceSpansList().forEach(rs -> rs.getScopeSpansList().forEach(ss -> ss.getSpansList()
          .forEach(s -> out.add(new Item(rs.getResource(), ss.getScope(), s)))));
    }
    out.sort(ORDER);
    return out;
  }

  public static List<Item> metrics(Collection<ExportMetricsServiceRequest> requests) {
    List<Item> out = new ArrayList<>();
    for (ExportMetricsServiceRequest r : requests) {
      r.getResourceMetricsList().forEach(rm -> rm.getScopeMetricsList().forEach(sm -> sm.getMetricsList()
          .forEach(m -> out.add(new Item(rm.getResource(), sm.getScope(), m)))));
    }
    out.sort(ORDER);
    return out;
  }

  public static List<Item> logs(Collection<ExportLogsServiceRequest> requests) {
    List<Item> out = new ArrayList<>();
    for (ExportLogsServiceRequest r : requests) {
      r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList().forEach(sl -> sl.getLogRecordsList()
          .forEach(l -> out.add(new Item(rl.getResource(), sl.getScope(), l)))));
    }
    out.sort(ORDER);
    return out;
  }
}
