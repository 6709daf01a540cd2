package dev.telemetry.gateway.otlp;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
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
import java.util.function.Function;

/**
 * Checks the items of a decoded export request and removes the ones no backend could use (malformed trace or
 * span IDs, nameless metrics), so that the rest of the request is accepted with an {@code ExportPartialSuccess}
 * instead of being refused whole. The common case (everything valid) is one typed pass that allocates nothing but
 * the result; rebuilding a request without its invalid items is rare and done reflectively.
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

  private static boolean validId(ByteString id, int size) {
    if (id.size() != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      if (id.byteAt(i) != 0) {
        return true;
      }
    }
    return false; // all zero is the "invalid" ID in W3C trace context
  }

  static String spanProblem(Span s) {
    if (!validId(s.getTraceId(), 16)) {
      return "span \"" + s.getName() + "\": trace_id must be 16 bytes, not all zero (got " + s.getTraceId().size()
          + " bytes)";
    }
    if (!validId(s.getSpanId(), 8)) {
      return "span \"" + s.getName() + "\": span_id must be 8 bytes, not all zero (got " + s.getSpanId().size()
          + " bytes)";
    }
    if (!s.getParentSpanId().isEmpty() && s.getParentSpanId().size() != 8) {
      return "span \"" + s.getName() + "\": parent_span_id must be empty or 8 bytes";
    }
    return null;
  }

  static String logProblem(LogRecord r) {
    if (!r.getTraceId().isEmpty() && r.getTraceId().size() != 16) {
      return "log record: trace_id must be empty or 16 bytes (got " + r.getTraceId().size() + " bytes)";
    }
    if (!r.getSpanId().isEmpty() && r.getSpanId().size() != 8) {
      return "log record: span_id must be empty or 8 bytes (got " + r.getSpanId().size() + " bytes)";
    }
    return null;
  }

  static String metricProblem(Metric m) {
    return m.getName().isEmpty() ? "metric: name must not be empty" : null;
  }

  private static Result traces(ExportTraceServiceRequest req) {
    int ok = 0;
    int bad = 0;
    String first = null;
    for (ResourceSpans rs : req.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (Span s : ss.getSpansList()) {
          String p = spanProblem(s);
          if (p == null) {
            ok++;
          } else if (bad++ == 0) {
            first = p;
          }
        }
      }
    }
    return result(req, ok, bad, first, "spans", m -> spanProblem((Span) m), Signal.TRACES);
  }

  private static Result logs(ExportLogsServiceRequest req) {
    int ok = 0;
    int bad = 0;
    String first = null;
    for (ResourceLogs rl : req.getResourceLogsList()) {
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          String p = logProblem(r);
          if (p == null) {
            ok++;
          } else if (bad++ == 0) {
            first = p;
          }
        }
      }
    }
    return result(req, ok, bad, first, "log_records", m -> logProblem((LogRecord) m), Signal.LOGS);
  }

  private static Result metrics(ExportMetricsServiceRequest req) {
    int ok = 0;
    int bad = 0;
    String first = null;
    for (ResourceMetrics rm : req.getResourceMetricsList()) {
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          String p = metricProblem(m);
          if (p == null) {
            ok += Signal.dataPointCount(m);
          } else {
            if (bad == 0) {
              first = p;
            }
            bad += Signal.dataPointCount(m);
          }
        }
      }
    }
    return result(req, ok, bad, first, "data_points", m -> metricProblem((Metric) m), Signal.METRICS);
  }

  private static Result result(Message req, int ok, int bad, String first, String what,
                               Function<Message, String> problem, Signal signal) {
    if (bad == 0) {
      return new Result(req, ok, 0, null);
    }
    Message kept = ok == 0 ? signal.emptyRequest() : without(req, problem);
    return new Result(kept, ok, bad, "rejected " + bad + " " + what + "; first problem: " + first);
  }

  /**
   * Rebuilds request → resources → scopes → items keeping only items without a problem, and dropping scopes and
   * resources left empty. Every OTLP export request has this three-level shape (the first repeated message field
   * at each level), so one reflective walk serves all signals.
   */
  private static Message without(Message request, Function<Message, String> problem) {
    return filter(request, 0, problem);
  }

  private static Message filter(Message m, int depth, Function<Message, String> problem) {
    FieldDescriptor children = firstRepeatedMessageField(m);
    Message.Builder b = m.toBuilder().clearField(children);
    for (int i = 0; i < m.getRepeatedFieldCount(children); i++) {
      Message child = (Message) m.getRepeatedField(children, i);
      if (depth == 2) {
        if (problem.apply(child) == null) {
          b.addRepeatedField(children, child);
        }
      } else {
        Message kept = filter(child, depth + 1, problem);
        if (kept.getRepeatedFieldCount(firstRepeatedMessageField(kept)) > 0) {
          b.addRepeatedField(children, kept);
        }
      }
    }
    return b.build();
  }

  private static FieldDescriptor firstRepeatedMessageField(Message m) {
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      if (f.isRepeated() && f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        return f;
      }
    }
    throw new IllegalStateException("not an OTLP container: " + m.getDescriptorForType().getFullName());
  }
}
