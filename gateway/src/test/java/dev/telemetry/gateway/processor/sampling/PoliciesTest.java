package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.processor.sampling.SamplingPolicy.*;
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
  static Trace trace(Span... spans) {
    Trace t = new Trace(spans[0].getTraceId(), 0);
    for (Span s : spans) {
      t.add(Trace.Entry.of(Resource.newBuilder().addAttributes(kv("service.name", AnyValue.newBuilder()
          .setStringValue("api").build())).build(), "", InstrumentationScope.getDefaultInstance(), "", s, null, true, 100, null));
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

  static Decision eval(SamplingPolicy p, Trace t) {
    return p.compile(() -> 1.0).evaluate(t, System.nanoTime());
  }

  @Test
  void latencyStatusAndSpanCount() {
    SamplingPolicy slow = new Latency("slow", Duration.ofMillis(500), null);
    assertThat(eval(slow, trace(span(0, 100), span(50, 600)))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(slow, trace(span(0, 100)))).isEqualTo(Decision.NOT_SAMPLE);
    SamplingPolicy errors = new StatusCode("err", List.of("ERROR"));
    assertThat(eval(errors, trace(span(0, 1), span(0, 1).toBuilder().setStatus(Status.newBuilder()
        .setCode(Status.StatusCode.STATUS_CODE_ERROR)).build()))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(errors, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    SamplingPolicy big = new SpanCount("big", 2, 3);
    assertThat(eval(big, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(eval(big, trace(span(0, 1), span(0, 1)))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(big, trace(span(0, 1), span(0, 1), span(0, 1), span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
  }

  @Test
  void attributePoliciesLookAtSpansAndResources() {
    Span withRoute = span(0, 1).toBuilder().addAttributes(kv("http.route", AnyValue.newBuilder()
        .setStringValue("/api/checkout").build())).addAttributes(kv("retries", AnyValue.newBuilder().setIntValue(4)
        .build())).addAttributes(kv("cache.hit", AnyValue.newBuilder().setBoolValue(true).build())).build();
    SamplingPolicy exact = new StringAttribute("r", "http.route", List.of("/api/checkout"), false, false);
    SamplingPolicy regex = new StringAttribute("r", "http.route", List.of("^/api/"), true, false);
    SamplingPolicy notHealth = new StringAttribute("r", "http.route", List.of("/health"), false, true);
    SamplingPolicy resource = new StringAttribute("r", "service.name", List.of("api"), false, false);
    assertThat(eval(exact, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(regex, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(notHealth, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(notHealth, trace(span(0, 1).toBuilder().addAttributes(kv("http.route", AnyValue.newBuilder()
        .setStringValue("/health").build())).build()))).isEqualTo(Decision.INVERT_NOT_SAMPLE);
    assertThat(eval(resource, trace(span(0, 1)))).isEqualTo(Decision.SAMPLE);
    SamplingPolicy retries = new NumericAttribute("n", "retries", 3.0, 10.0, false);
    assertThat(eval(retries, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(retries, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    SamplingPolicy cached = new BooleanAttribute("b", "cache.hit", true, false);
    assertThat(eval(cached, trace(withRoute))).isEqualTo(Decision.SAMPLE);
    SamplingPolicy state = new TraceState("s", "vendor", List.of("keep"));
    assertThat(eval(state, trace(span(0, 1).toBuilder().setTraceState("a=b,vendor=keep").build())))
        .isEqualTo(Decision.SAMPLE);
  }

  @Test
  void probabilisticIsDeterministicByTraceIdAndNearTheRate() {
    SamplingPolicy ten = new Probabilistic("p", 10);
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
    Policies.TokenBucket limit = (Policies.TokenBucket) new RateLimiting("rl", 10).compile(() -> 1.0);
    long t0 = 1_000_000_000L;
    assertThat(limit.take(6, t0)).isTrue();
    assertThat(limit.take(6, t0)).isFalse(); // 4 tokens left
    assertThat(limit.take(6, t0 + 500_000_000L)).isTrue(); // +5 tokens after half a second
    SamplingPolicy errors = new StatusCode("errors", List.of("ERROR"));
    SamplingPolicy all = new AlwaysSample("rest");
    SamplingPolicy composite = new Composite("c", 100, List.of(errors, all), List.of(60, 40));
    Policies.Evaluator c = composite.compile(() -> 1.0);
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
    SamplingPolicy errors = new StatusCode("errors", List.of("ERROR"));
    SamplingPolicy health = new StringAttribute("health", "http.route", List.of("/health"), false, false);
    Span healthError = span(0, 1).toBuilder().setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))
        .addAttributes(kv("http.route", AnyValue.newBuilder().setStringValue("/health").build())).build();
    SamplingPolicy and = new And("and", List.of(errors, health));
    SamplingPolicy drop = new Drop("drop", List.of(health));
    assertThat(eval(and, trace(healthError))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(and, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(eval(drop, trace(healthError))).isEqualTo(Decision.DROP);
    assertThat(eval(drop, trace(span(0, 1)))).isEqualTo(Decision.NOT_SAMPLE);
  }

  @Test
  void rateBudgetsFollowTheMembersShareOfTheRing() {
    double[] share = {1.0};
    Policies.TokenBucket limit = (Policies.TokenBucket) new RateLimiting("rate", 900).compile(() -> share[0]);
    long t = 1_000_000_000L;
    assertThat(limit.take(900, t)).isTrue();
    share[0] = 1 / 3.0; // two more members joined: this one decides a third of the traces
    assertThat(limit.take(301, t + 1_000_000_000L)).as("a second refills 300, not 900").isFalse();
    assertThat(limit.take(300, t + 1_000_000_000L)).isTrue();
    share[0] = 1.0;
    assertThat(limit.take(900, t + 2_000_000_000L)).isTrue();
  }

  @Test
  void subPoliciesOfAndAndDropSeeTheSamplersClock() {
    // Two spans/s: at t0 the bucket holds 2, so the first 2-span trace passes and the second does not. Half a
    // second later on the *sampler's* clock one token has come back, not the wall clock's idea of it.
    SamplingPolicy and = new And("and", List.of(new AlwaysSample("all"), new RateLimiting("two", 2)));
    Policies.Evaluator e = and.compile(() -> 1.0);
    Trace two = trace(span(0, 1), span(0, 1));
    long t0 = 1_000_000_000L;
    assertThat(e.evaluate(two, t0)).isEqualTo(Decision.SAMPLE);
    assertThat(e.evaluate(two, t0)).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(e.evaluate(two, t0 + 500_000_000L)).as("one token after 0.5 s").isEqualTo(Decision.NOT_SAMPLE);
    assertThat(e.evaluate(two, t0 + 1_000_000_000L)).as("two tokens after 1 s").isEqualTo(Decision.SAMPLE);
    Policies.Evaluator d = new Drop("drop", List.of(new RateLimiting("two", 2))).compile(() -> 1.0);
    assertThat(d.evaluate(two, t0)).isEqualTo(Decision.DROP);
    assertThat(d.evaluate(two, t0)).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(d.evaluate(two, t0 + 1_000_000_000L)).isEqualTo(Decision.DROP);
  }

  @Test
  void traceFlagsHonourTheHeadSamplersDecision() {
    Span sampled = span(0, 1).toBuilder().setFlags(0x101).build(); // W3C sampled + "has remote parent" bits
    Span notSampled = span(0, 1).toBuilder().setFlags(0x100).build();
    assertThat(eval(new TraceFlags("head", true), trace(notSampled, sampled))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(new TraceFlags("head", true), trace(notSampled))).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(eval(new TraceFlags("unsampled", false), trace(notSampled))).isEqualTo(Decision.SAMPLE);
    assertThat(eval(new TraceFlags("unsampled", false), trace(sampled))).isEqualTo(Decision.NOT_SAMPLE);
  }

  @Test
  void bytesLimitingCountsEncodedBytesWithABurst() {
    Trace t = trace(span(0, 1), span(0, 1));
    long size = t.encodedBytes();
    assertThat(size).isEqualTo(2L * span(0, 1).getSerializedSize());
    // size bytes per second, burst of three traces: three pass at once, the fourth waits for a refill.
    Policies.Evaluator e = new BytesLimiting("bytes", size, 3 * size).compile(() -> 1.0);
    long t0 = 5_000_000_000L;
    for (int i = 0; i < 3; i++) {
      assertThat(e.evaluate(t, t0)).isEqualTo(Decision.SAMPLE);
    }
    assertThat(e.evaluate(t, t0)).isEqualTo(Decision.NOT_SAMPLE);
    assertThat(e.evaluate(t, t0 + 1_000_000_000L)).as("one second refills one trace's bytes")
        .isEqualTo(Decision.SAMPLE);
    assertThat(e.evaluate(t, t0 + 1_000_000_000L)).isEqualTo(Decision.NOT_SAMPLE);
  }
}
