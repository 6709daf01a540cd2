package dev.telemetry.gateway.processor.redaction;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Action;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig.Rule;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import com.google.protobuf.Message;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValueList;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Traces and logs are redacted through the generated accessors, metrics through the descriptor walk: on random
 * traces and logs (sensitive values in names, bodies, attributes, events, links, resources; blocked and not-allowed
 * keys; per-service rules) the typed paths and the walk must produce the same request and the same counts.
 */
class TypedRedactionEquivalenceTest {
  static final String[] VALUES = {"plain", "jane@example.com", "card 4111111111111111", "4111111111111112",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "SELECT * FROM t WHERE e = 'bob@example.org'", ""};
  static final String[] KEYS = {"http.method", "user.email", "password", "db.query.text", "peer", "token"};

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
  void typedAndDescriptorWalksAgree(int seed) {
    Random r = new Random(seed);
    List<String> allowed = r.nextBoolean() ? List.of() : List.of("http.method", "user.email", "db.query.text");
    List<String> blocked = r.nextBoolean() ? List.of() : List.of("^pass.*", "token");
    Action blockedAction = Action.values()[r.nextInt(3)];
    List<Rule> rules = List.of(
        new Rule("emails", "email", null, Action.values()[r.nextInt(3)], Set.of(), Set.of()),
        new Rule("cards", "credit_card", null, Action.values()[r.nextInt(3)], Set.of(),
            r.nextBoolean() ? Set.of() : Set.of("svc-1")),
        new Rule("jwt", "jwt", null, Action.values()[r.nextInt(3)], Set.of(Signal.TRACES, Signal.LOGS),
            Set.of()));
    RedactionProcessorConfig config = new RedactionProcessorConfig("r", allowed, blocked, blockedAction,
        "0123456789abcdef-secret", rules, r.nextBoolean());
    SimpleMeterRegistry typedMeters = new SimpleMeterRegistry();
    SimpleMeterRegistry walkMeters = new SimpleMeterRegistry();
    RedactionProcessor typed = new RedactionProcessor(config, typedMeters);
    RedactionProcessor walk = new RedactionProcessor(config, walkMeters);
    for (int round = 0; round < 50; round++) {
      ExportTraceServiceRequest request = request(r);
      ExportTraceServiceRequest a = (ExportTraceServiceRequest) typed.process(Signal.TRACES, request);
      ExportTraceServiceRequest b = (ExportTraceServiceRequest) walk.walkRequest(request, walk.rules(Signal.TRACES));
      assertThat(a).as("seed %d round %d", seed, round).isEqualTo(b);
      assertThat(a == request).isEqualTo(b == request);
      ExportLogsServiceRequest logs = logs(r);
      Message la = typed.process(Signal.LOGS, logs);
      Message lb = walk.walkRequest(logs, walk.rules(Signal.LOGS));
      assertThat(la).as("logs, seed %d round %d", seed, round).isEqualTo(lb);
      assertThat(la == logs).isEqualTo(lb == logs);
    }
    for (String rule : new String[] {"emails", "cards", "jwt", "not_allowed", "blocked_key"}) {
      assertThat(typedMeters.find("gateway.processor.redaction.redactions").tag("rule", rule).counter().count())
          .as(rule).isEqualTo(walkMeters.find("gateway.processor.redaction.redactions").tag("rule", rule)
              .counter().count());
    }
  }

  static ExportTraceServiceRequest request(Random r) {
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      ResourceSpans.Builder rs = ResourceSpans.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + r.nextInt(3))).addAttributes(attribute(r)));
      for (int j = 0, m = 1 + r.nextInt(2); j < m; j++) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder();
        for (int k = 0, s = r.nextInt(5); k < s; k++) {
          Span.Builder span = Span.newBuilder().setName(VALUES[r.nextInt(VALUES.length)])
              .setStatus(io.opentelemetry.proto.trace.v1.Status.newBuilder().setMessage(VALUES[r.nextInt(3)]));
          for (int a = 0, c = r.nextInt(5); a < c; a++) {
            span.addAttributes(attribute(r));
          }
          if (r.nextInt(3) == 0) {
            span.addEvents(Span.Event.newBuilder().setName(VALUES[r.nextInt(VALUES.length)])
                .addAttributes(attribute(r)).addAttributes(attribute(r)));
          }
          if (r.nextInt(3) == 0) {
            span.addLinks(Span.Link.newBuilder().addAttributes(attribute(r)));
          }
          ss.addSpans(span);
        }
        rs.addScopeSpans(ss);
      }
      req.addResourceSpans(rs);
    }
    return req.build();
  }

  static ExportLogsServiceRequest logs(Random r) {
    ExportLogsServiceRequest.Builder req = ExportLogsServiceRequest.newBuilder();
    for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
      ResourceLogs.Builder rl = ResourceLogs.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + r.nextInt(3))).addAttributes(attribute(r)));
      for (int j = 0, m = 1 + r.nextInt(2); j < m; j++) {
        ScopeLogs.Builder sl = ScopeLogs.newBuilder();
        for (int k = 0, c = r.nextInt(5); k < c; k++) {
          LogRecord.Builder record = LogRecord.newBuilder().setSeverityText(VALUES[r.nextInt(3)]);
          switch (r.nextInt(4)) {
            case 0 -> record.setBody(AnyValue.newBuilder().setStringValue(VALUES[r.nextInt(VALUES.length)]));
            case 1 -> record.setBody(AnyValue.newBuilder().setKvlistValue(KeyValueList.newBuilder()
                .addValues(attribute(r)).addValues(attribute(r))));
            case 2 -> record.setBody(AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
                .addValues(AnyValue.newBuilder().setStringValue(VALUES[r.nextInt(VALUES.length)]))));
            default -> {
            }
          }
          for (int a = 0, at = r.nextInt(4); a < at; a++) {
            record.addAttributes(attribute(r));
          }
          sl.addLogRecords(record);
        }
        rl.addScopeLogs(sl);
      }
      req.addResourceLogs(rl);
    }
    return req.build();
  }

  static KeyValue attribute(Random r) {
    String key = KEYS[r.nextInt(KEYS.length)];
    if (r.nextInt(6) == 0) {
      return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setArrayValue(ArrayValue.newBuilder()
          .addValues(AnyValue.newBuilder().setStringValue(VALUES[r.nextInt(VALUES.length)]))
          .addValues(AnyValue.newBuilder().setIntValue(r.nextInt())))).build();
    }
    return kv(key, VALUES[r.nextInt(VALUES.length)]);
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }
}
