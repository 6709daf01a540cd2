package dev.telemetry.gateway.routing;

import com.google.protobuf.Message;
import dev.telemetry.gateway.otlp.Signal;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;

/**
 * The common shape of the three OTLP request types — resource entries holding scope entries holding items (spans,
 * metrics, log records) — so the router walks and rebuilds them with one piece of code. Routing treats a metric with
 * all its data points as one item.
 */
final class OtlpShape {
  private OtlpShape() {
  }

  static List<KeyValue> resourceAttributes(Message rx) {
    if (rx instanceof ResourceSpans r) {
      return r.getResource().getAttributesList();
    }
    if (rx instanceof ResourceLogs r) {
      return r.getResource().getAttributesList();
    }
    return ((ResourceMetrics) rx).getResource().getAttributesList();
  }

  static List<? extends Message> scopes(Message rx) {
    if (rx instanceof ResourceSpans r) {
      return r.getScopeSpansList();
    }
    if (rx instanceof ResourceLogs r) {
      return r.getScopeLogsList();
    }
    return ((ResourceMetrics) rx).getScopeMetricsList();
  }

  static InstrumentationScope scope(Message sx) {
    if (sx instanceof ScopeSpans s) {
      return s.getScope();
    }
    if (sx instanceof ScopeLogs s) {
      return s.getScope();
    }
    return ((ScopeMetrics) sx).getScope();
  }

  static List<? extends Message> items(Message sx) {
    if (sx instanceof ScopeSpans s) {
      return s.getSpansList();
    }
    if (sx instanceof ScopeLogs s) {
      return s.getLogRecordsList();
    }
    return ((ScopeMetrics) sx).getMetricsList();
  }

  /** The resource entry with its scope entries replaced. */
  @SuppressWarnings("unchecked")
  static Message withScopes(Message rx, List<? extends Message> scopes) {
    if (rx instanceof ResourceSpans r) {
      return r.toBuilder().clearScopeSpans().addAllScopeSpans((List<ScopeSpans>) scopes).build();
    }
    if (rx instanceof ResourceLogs r) {
      return r.toBuilder().clearScopeLogs().addAllScopeLogs((List<ScopeLogs>) scopes).build();
    }
    return ((ResourceMetrics) rx).toBuilder().clearScopeMetrics()
        .addAllScopeMetrics((List<ScopeMetrics>) scopes).build();
  }

  /** The scope entry with its items replaced. */
  @SuppressWarnings("unchecked")
  static Message withItems(Message sx, List<? extends Message> items) {
    if (sx instanceof ScopeSpans s) {
      return s.toBuilder().clearSpans().addAllSpans((List<Span>) items).build();
    }
    if (sx instanceof ScopeLogs s) {
      return s.toBuilder().clearLogRecords().addAllLogRecords((List<LogRecord>) items).build();
    }
    return ((ScopeMetrics) sx).toBuilder().clearMetrics().addAllMetrics((List<Metric>) items).build();
  }

  /** Spans, log records or metric data points in an item. */
  static int weight(Message item) {
    return item instanceof Metric m ? Signal.dataPointCount(m) : 1;
  }
}
