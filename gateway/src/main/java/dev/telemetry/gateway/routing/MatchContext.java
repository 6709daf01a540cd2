package dev.telemetry.gateway.routing;

import dev.telemetry.gateway.otlp.Signal;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;

/**
 * The item being routed and what surrounds it, and the evaluation of conditions against it. One instance is filled
 * in as the router walks a request (resource, then scope, then item); it is confined to that walk.
 */
final class MatchContext {
  /** The text of an array, map or bytes value: present for {@code exists}, equal to nothing a rule can write. */
  static final String NON_SCALAR = new String("\u0000(non-scalar)");

  Signal signal;
  String tenant;
  List<KeyValue> resource = List.of();
  InstrumentationScope scope = InstrumentationScope.getDefaultInstance();
  Object item;

  boolean eval(Match m) {
    if (m instanceof Match.Test t) {
      return test(t);
    }
    if (m instanceof Match.All a) {
      for (Match x : a.of()) {
        if (!eval(x)) {
          return false;
        }
      }
      return true;
    }
    if (m instanceof Match.Any a) {
      for (Match x : a.of()) {
        if (eval(x)) {
          return true;
        }
      }
      return false;
    }
    return !eval(((Match.Not) m).of());
  }

  private boolean test(Match.Test t) {
    if (t.subject() == Subject.SEVERITY) {
      int n = item instanceof LogRecord r ? r.getSeverityNumberValue() : 0;
      if (t.op() instanceof Operator.Exists e) {
        return (n > 0) == e.present();
      }
      return n > 0 && ((Operator.SeverityIn) t.op()).test(n);
    }
    return t.op().test(value(t.subject(), t.key()));
  }

  /** The text of a subject for the current item, null when absent. */
  String value(Subject s, String key) {
    return switch (s) {
      case SIGNAL -> signal.id();
      case TENANT -> tenant;
      case RESOURCE -> attribute(resource, key);
      case SCOPE_NAME -> nonEmpty(scope.getName());
      case SCOPE_VERSION -> nonEmpty(scope.getVersion());
      case ATTRIBUTE -> item instanceof Span sp ? attribute(sp.getAttributesList(), key)
          : item instanceof LogRecord r ? attribute(r.getAttributesList(), key) : null;
      case SEVERITY -> item instanceof LogRecord r && r.getSeverityNumberValue() > 0
          ? Integer.toString(r.getSeverityNumberValue()) : null;
      case BODY -> item instanceof LogRecord r && r.hasBody() ? text(r.getBody()) : null;
      case SPAN_NAME -> item instanceof Span sp ? sp.getName() : null;
      case SPAN_KIND -> item instanceof Span sp ? spanKind(sp) : null;
      case SPAN_STATUS -> item instanceof Span sp ? spanStatus(sp) : null;
      case METRIC_NAME -> item instanceof Metric m ? m.getName() : null;
    };
  }

  static String attribute(List<KeyValue> attrs, String key) {
    for (int i = 0, n = attrs.size(); i < n; i++) {
      KeyValue kv = attrs.get(i);
      if (kv.getKey().equals(key)) {
        return text(kv.getValue());
      }
    }
    return null;
  }

  static String text(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case BOOL_VALUE -> v.getBoolValue() ? "true" : "false";
      case INT_VALUE -> Long.toString(v.getIntValue());
      case DOUBLE_VALUE -> text(v.getDoubleValue());
      case VALUE_NOT_SET -> null;
      default -> NON_SCALAR;
    };
  }

  /** Doubles with an integral value read like integers ({@code 2.0} is {@code "2"}), so rules need not care. */
  static String text(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  static String spanKind(Span sp) {
    return switch (sp.getKind()) {
      case SPAN_KIND_INTERNAL -> "INTERNAL";
      case SPAN_KIND_SERVER -> "SERVER";
      case SPAN_KIND_CLIENT -> "CLIENT";
      case SPAN_KIND_PRODUCER -> "PRODUCER";
      case SPAN_KIND_CONSUMER -> "CONSUMER";
      default -> "UNSPECIFIED";
    };
  }

  static String spanStatus(Span sp) {
    return switch (sp.getStatus().getCode()) {
      case STATUS_CODE_OK -> "OK";
      case STATUS_CODE_ERROR -> "ERROR";
      default -> "UNSET";
    };
  }

  private static String nonEmpty(String s) {
    return s.isEmpty() ? null : s;
  }
}
