package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.config.TailSamplingProcessorConfig.Policy;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class PoliciesTest {
  static Policy policy(String name, String type) {
    return new Policy(name, type, null, null, null, 0, null, null, false, false, null, null, null, null, null, 0,
        null, null);
  }

  static Trace trace(Span... spans) {
    Trace t = new Trace(spans[0].getTraceId(), 0);
    for (Span s : spans) {
      t.add(Trace.Entry.of(Resource.newBuilder().addAttributes(kv("service.name", AnyValue.newBuilder()
          .setStringValue("api").build())).build(), "", InstrumentationScope.getDefaultInstance(), "", s, null, 100, null));
    }
    return t;
  }

  static KeyValue kv(String k, AnyValue v) {
    return KeyValue.newBuilder().setKey(k).setValue(v).build();
  }

  static Span span(long startMs, long endMs) {
    return Span.newBuilder().setTraceId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        15, 16})).setSpanId(ByteString.copyFrom(new byte[] {1, 1, 1, 1, 1, 1, 1, 1}))
        .setStartTimeUnixNano(startMs * 1_000_000).setEndTimeUnixNano(endMs * 1_000_000).build();
  }

  static Decision eval(Policy p, Trace t) {
    return Policies.compile(p).evaluate(t, System.nanoTime());
  }

  @Test
  void latencyStatusAndSpanCount() {
    Policy slow = new Policy("slow", "latency", Duration.ofMillis(500), null, null, 0, null, null, false, false, null,
        null, null, null, null, 0, null, null);
    assertThat(eval(slow, trace(span(0, 100), span(50, 600)))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(slow, trace(span(0, 100)))).isEqualTo(Decision.NOT_SAMPLE);
    Policy errors = new Policy("err", "status_code", null, null, List.of("ERROR"), 0, null, null, false, false, null,
        null, null, null, null, 0, null, null);
    assertThat(eval(errors, trace(span(0, 1), span(0, 1).toBuilder().setStatus(Status.newBuilder()
        .setCode(Status.StatusCode.STATUS_CODE_ERROR)).build()))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(errors, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    Policy big = new Policy("big", "span_count", null, null, null, 0, null, null, false, false, null, null, null, 2,
        3, 0, null, null);
    assertThat(eval(big, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(eval(big, trace(span(0, 1), span(0, 1)))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(big, trace(span(0, 1), span(0, 1), span(0, 1), span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
  }

  @Test
  void attributePoliciesLookAtSpansAndResources() {
    Span withRoute = span(0, 1).toBuilder().addAttributes(kv("http.route", AnyValue.newBuilder()
        .setStringValue("/api/checkout").build())).addAttributes(kv("retries", AnyValue.newBuilder().setIntValue(4)
        .build())).addAttributes(kv("cache.hit", AnyValue.newBuilder().setBoolValue(true).build())).build();
    Policy exact = new Policy("r", "string_attribute", null, null, null, 0, "http.route", List.of("/api/checkout"),
        false, false, null, null, null, null, null, 0, null, null);
    Policy regex = new Policy("r", "string_attribute", null, null, null, 0, "http.route", List.of("^/api/"), true,
        false, null, null, null, null, null, 0, null, null);
    Policy notHealth = new Policy("r", "string_attribute", null, null, null, 0, "http.route", List.of("/health"),
        false, true, null, null, null, null, null, 0, null, null);
    Policy resource = new Policy("r", "string_attribute", null, null, null, 0, "service.name", List.of("api"),
        false, false, null, null, null, null, null, 0, null, null);
    assertThat(eval(exact, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(regex, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(notHealth, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(notHealth, trace(span(0, 1).toBuilder().addAttributes(kv("http.route", AnyValue.newBuilder()
        .setStringValue("/health").build())).build()))).isEqualTo(Decision.INVERT_NOT_SAMPLE);
    assertThat(eval(resource, trace(span(0, 1)))).isEqualTo(Decision.SAMPLE);
    Policy retries = new Policy("n", "numeric_attribute", null, null, null, 0, "retries", null, false, false, 3.0,
        10.0, null, null, null, 0, null, null);
    assertThat(eval(retries, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(retries, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    Policy cached = new Policy("b", "boolean_attribute", null, null, null, 0, "cache.hit", null, false, false, null,
        null, true, null, null, 0, null, null);
    assertThat(eval(cached, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    Policy state = new Policy("s", "trace_state", null, null, null, 0, "vendor", List.of("keep"), false, false, null,
        null, null, null, null, 0, null, null);
    assertThat(eval(state, trace(span(0, 1).toBuilder().setTraceState("a=b,vendor=keep").build())))
        .isEqualTo(Decision.SAMPLE);
  }

  @Test
  void probabilisticIsDeterministicByTraceIdAndNearTheRate() {
    Policy ten = new Policy("p", "probabilistic", null, null, null, 10, null, null, false, false, null, null, null,
        null, null, 0, null, null);
    java.util.Random r = new java.util.Random(7);
    int sampled = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] id = new byte[16];
      r.nextBytes(id);
      Trace t = trace(span(0, 1).toBuilder().setTraceId(ByteString.copyFrom(id)).build());
      Decision first = eval(ten, t);
      assertThat(eval(ten, t)).isEqualTo(first);
      if (first == Decision.SAMPLE) {
        sampled++;
      }
    }
    assertThat(sampled).isBetween(1800, 2200);
  }

  @Test
  void rateLimitingAndCompositeShares() {
    Policies.RateLimiting limit = new Policies.RateLimiting("rl", 10);
    long t0 = 1_000_000_000L;
    assertThat(limit.take(6, t0)).isTrue();
    assertThat(limit.take(6, t0)).isFalse(); // 4 tokens left
    assertThat(limit.take(6, t0 + 500_000_000L)).isTrue(); // +5 tokens after half a second
    Policy errors = new Policy("errors", "status_code", null, null, List.of("ERROR"), 0, null, null, false, false,
        null, null, null, null, null, 0, null, null);
    Policy all = policy("rest", "always_sample");
    Policy composite = new Policy("c", "composite", null, null, null, 0, null, null, false, false, null, null, null,
        null, null, 100, List.of(errors, all), List.of(60, 40));
    Policies.Evaluator c = Policies.compile(composite);
    Trace ok = trace(span(0, 1));
    int kept = 0;
    for (int i = 0; i < 100; i++) {
      if (c.evaluate(ok, t0) == Decision.SAMPLE) {
        kept++;
      }
    }
    assertThat(kept).isEqualTo(40); // the "rest" share: 40 of 100 spans/s
  }

  @Test
  void andAndDrop() {
    Policy errors = new Policy("errors", "status_code", null, null, List.of("ERROR"), 0, null, null, false, false,
        null, null, null, null, null, 0, null, null);
    Policy health = new Policy("health", "string_attribute", null, null, null, 0, "http.route", List.of("/health"),
        false, false, null, null, null, null, null, 0, null, null);
    Span healthError = span(0, 1).toBuilder().setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))
        .addAttributes(kv("http.route", AnyValue.newBuilder().setStringValue("/health").build())).build();
    Policy and = new Policy("and", "and", null, null, null, 0, null, null, false, false, null, null, null, null, null,
        0, List.of(errors, health), null);
    Policy drop = new Policy("drop", "drop", null, null, null, 0, null, null, false, false, null, null, null, null,
        null, 0, List.of(health), null);
    assertThat(eval(and, trace(healthError))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(and, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(eval(drop, trace(healthError))).isEqualTo(Decision.DROP);
    assertThat(eval(drop, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
  }

  @Test
  void rateBudgetsFollowTheMembersShareOfTheRing() {
    double[] share = {1.0};
    Policies.RateLimiting limit = new Policies.RateLimiting("rate", 900, () -> share[0]);
    long t = 1_000_000_000L;
    assertThat(limit.take(900, t)).isTrue();
    share[0] = 1 / 3.0; // two more members joined: this one decides a third of the traces
    assertThat(limit.take(301, t + 1_000_000_000L)).as("a second refills 300, not 900").isFalse();
    assertThat(limit.take(300, t + 1_000_000_000L)).isTrue();
    share[0] = 1.0;
    assertThat(limit.take(900, t + 2_000_000_000L)).isTrue();
  }
}
