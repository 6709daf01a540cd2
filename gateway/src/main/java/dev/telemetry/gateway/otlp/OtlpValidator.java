package dev.telemetry.gateway.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;

/**
 * Checks the items of a decoded export request and removes the ones no backend could use (malformed trace or
 * span IDs, nameless metrics), so that the rest of the request is accepted with an {@code ExportPartialSuccess}
 * instead of being refused whole. The common case (everything valid) allocates nothing but the result.
 */
public final class OtlpValidator {

  private OtlpValidator() {
  }

  /** The outcome: the request to pass on, its accepted item count, and what was rejected and why. */
  public record Result(Message request, int accepted, int rejected, String errorMessage) {
  }

  public static Result validate(Signal signal, Message request) {
    return switch (signal) {
      case TRACES -> traces((ExportTraceServiceRequest) request);
      case METRICS -> metrics((ExportMetricsServiceRequest) request);
      case LOGS -> logs((ExportLogsServiceRequest) request);
    };
  }

  private static boolean validTraceId(ByteString id) {
    return id.size() == 16 && !allZero(id);
  }

  private static boolean validSpanId(ByteString id) {
    return id.size() == 8 && !allZero(id);
  }

  private static boolean allZero(ByteString id) {
    for (int i = 0; i < id.size(); i++) {
      if (id.byteAt(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private static String spanProblem(Span s) {
    if (!validTraceId(s.getTraceId())) {
      return "span \"" + s.getName() + "\": trace_id must be 16 bytes, not all zero (got " + s.getTraceId().size()
          + " bytes)";
    }
    if (!validSpanId(s.getSpanId())) {
      return "span \"" + s.getName() + "\": span_id must be 8 bytes, not all zero (got " + s.getSpanId().size()
          + " bytes)";
    }
    if (!s.getParentSpanId().isEmpty() && s.getParentSpanId().size() != 8) {
      return "span \"" + s.getName() + "\": parent_span_id must be empty or 8 bytes";
    }
    return null;
  }

  private static Result traces(ExportTraceServiceRequest req) {
    int ok = 0;
    int bad = 0;
    String firstProblem = null;
    for (ResourceSpans rs : req.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          String p = spanProblem(s);
          if (p == null) {
            ok++;
          } else {
            bad++;
            if (firstProblem == null) {
              firstProblem = p;
            }
          }
        }
      }
    }
    if (bad == 0) {
      return new Result(req, ok, 0, null);
    }
    ExportTraceServiceRequest.Builder out = ExportTraceServiceRequest.newBuilder();
    for (ResourceSpans rs : req.getResourceSpansList()) {
      ResourceSpans.Builder rb = rs.toBuilder().clearScopeSpans();
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        ScopeSpans.Builder sb = ss.toBuilder().clearSpans();
        for (Span s : ss.getSpansList()) {
          if (spanProblem(s) == null) {
            sb.addSpans(s);
          }
        }
        if (sb.getSpansCount() > 0) {
          rb.addScopeSpans(sb);
        }
      }
      if (rb.getScopeSpansCount() > 0) {
        out.addResourceSpans(rb);
      }
    }
    return new Result(out.build(), ok, bad, summary(bad, "spans", firstProblem));
  }

  private static String logProblem(LogRecord r) {
    if (!r.getTraceId().isEmpty() && r.getTraceId().size() != 16) {
      return "log record: trace_id must be empty or 16 bytes (got " + r.getTraceId().size() + " bytes)";
    }
    if (!r.getSpanId().isEmpty() && r.getSpanId().size() != 8) {
      return "log record: span_id must be empty or 8 bytes (got " + r.getSpanId().size() + " bytes)";
    }
    return null;
  }

  private static Result logs(ExportLogsServiceRequest req) {
    int ok = 0;
    int bad = 0;
    String firstProblem = null;
    for (ResourceLogs rl : req.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          String p = logProblem(r);
          if (p == null) {
            ok++;
          } else {
            bad++;
            if (firstProblem == null) {
              firstProblem = p;
            }
          }
        }
      }
    }
    if (bad == 0) {
      return new Result(req, ok, 0, null);
    }
    ExportLogsServiceRequest.Builder out = ExportLogsServiceRequest.newBuilder();
    for (ResourceLogs rl : req.getResourceLogsList()) {
      ResourceLogs.Builder rb = rl.toBuilder().clearScopeLogs();
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        ScopeLogs.Builder sb = sl.toBuilder().clearLogRecords();
        for (LogRecord r : sl.getLogRecordsList()) {
          if (logProblem(r) == null) {
            sb.addLogRecords(r);
          }
        }
        if (sb.getLogRecordsCount() > 0) {
          rb.addScopeLogs(sb);
        }
      }
      if (rb.getScopeLogsCount() > 0) {
        out.addResourceLogs(rb);
      }
    }
    return new Result(out.build(), ok, bad, summary(bad, "log_records", firstProblem));
  }

  private static Result metrics(ExportMetricsServiceRequest req) {
    int ok = 0;
    int bad = 0;
    for (ResourceMetrics rm : req.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          if (m.getName().isEmpty()) {
            bad += Signal.dataPointCount(m);
          } else {
            ok += Signal.dataPointCount(m);
          }
        }
      }
    }
    if (bad == 0) {
      return new Result(req, ok, 0, null);
    }
    ExportMetricsServiceRequest.Builder out = ExportMetricsServiceRequest.newBuilder();
    for (ResourceMetrics rm : req.getResourceMetricsList()) {
      ResourceMetrics.Builder rb = rm.toBuilder().clearScopeMetrics();
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        ScopeMetrics.Builder sb = sm.toBuilder().clearMetrics();
        for (Metric m : sm.getMetricsList()) {
          if (!m.getName().isEmpty()) {
            sb.addMetrics(m);
          }
        }
        if (sb.getMetricsCount() > 0) {
          rb.addScopeMetrics(sb);
        }
      }
      if (rb.getScopeMetricsCount() > 0) {
        out.addResourceMetrics(rb);
      }
    }
    return new Result(out.build(), ok, bad, summary(bad, "data_points", "metric: name must not be empty"));
  }

  private static String summary(int bad, String what, String firstProblem) {
    return "rejected " + bad + " " + what + "; first problem: " + firstProblem;
  }
}
