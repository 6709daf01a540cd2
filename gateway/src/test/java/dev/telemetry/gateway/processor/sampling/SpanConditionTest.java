package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpanConditionTest {
  static final Span CHECKOUT = Span.newBuilder().setTraceId(ByteString.copyFrom(new byte[16]))
      .setSpanId(ByteString.copyFrom(new byte[8])).setName("POST /checkout").setKind(Span.SpanKind.SPAN_KIND_SERVER)
      .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))
      .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(3_500_000_000L).setTraceState("vendor=keep")
      .addAttributes(kv("http.response.status_code", AnyValue.newBuilder().setIntValue(503).build()))
      .addAttributes(kv("retry.ratio", AnyValue.newBuilder().setDoubleValue(0.25).build()))
      .addAttributes(kv("cache.hit", AnyValue.newBuilder().setBoolValue(false).build())).build();
  static final Resource RESOURCE = Resource.newBuilder()
      .addAttributes(kv("service.name", AnyValue.newBuilder().setStringValue("payments").build())).build();

  static KeyValue kv(String k, AnyValue v) {
    return KeyValue.newBuilder().setKey(k).setValue(v).build();
  }

  static boolean test(String condition) {
    return SpanCondition.parse(condition).test(Trace.Entry.of(RESOURCE, "",
        InstrumentationScope.newBuilder().setName("io.opentelemetry.okhttp").build(), "", CHECKOUT, null, true, 1,
        null));
  }

  @Test
  void pathsLiteralsAndComparisons() {
    assertThat(test("name == \"POST /checkout\"")).isTrue();
    assertThat(test("name != \"POST /checkout\"")).isFalse();
    assertThat(test("kind == SPAN_KIND_SERVER")).isTrue();
    assertThat(test("kind == SPAN_KIND_CLIENT")).isFalse();
    assertThat(test("status.code == STATUS_CODE_ERROR")).isTrue();
    assertThat(test("attributes[\"http.response.status_code\"] >= 500")).isTrue();
    assertThat(test("attributes[\"http.response.status_code\"] < 500")).isFalse();
    assertThat(test("attributes[\"retry.ratio\"] > 0.2 and attributes[\"retry.ratio\"] <= 0.25")).isTrue();
    assertThat(test("attributes[\"cache.hit\"] == false")).isTrue();
    assertThat(test("attributes[\"missing\"] == nil")).isTrue();
    assertThat(test("resource.attributes[\"service.name\"] == \"payments\"")).isTrue();
    assertThat(test("instrumentation_scope.name == \"io.opentelemetry.okhttp\"")).isTrue();
    assertThat(test("trace_state == \"vendor=keep\"")).isTrue();
    assertThat(test("end_time_unix_nano - start_time_unix_nano > 2000000000")).isTrue();
    assertThat(test("end_time_unix_nano - start_time_unix_nano > 3000000000")).isFalse();
  }

  @Test
  void mismatchedTypesAreFalseNotErrors() {
    assertThat(test("attributes[\"http.response.status_code\"] == \"503\"")).isFalse();
    assertThat(test("name > 5")).isFalse();
    assertThat(test("attributes[\"missing\"] > 1")).isFalse();
    assertThat(test("attributes[\"http.response.status_code\"] == 503.0")).as("numbers compare by value").isTrue();
  }

  @Test
  void logicPrecedenceAndIsMatch() {
    // and binds tighter than or: false or (true and true)
    assertThat(test("kind == SPAN_KIND_CLIENT or name == \"POST /checkout\" and status.code == STATUS_CODE_ERROR"))
        .isTrue();
    assertThat(test("(kind == SPAN_KIND_CLIENT or name == \"POST /checkout\") and status.code == STATUS_CODE_OK"))
        .isFalse();
    assertThat(test("not kind == SPAN_KIND_CLIENT")).isTrue();
    assertThat(test("IsMatch(name, \"^POST /check\")")).isTrue();
    assertThat(test("IsMatch(resource.attributes[\"service.name\"], \"^pay\") and not IsMatch(name, \"GET\")"))
        .isTrue();
    assertThat(test("IsMatch(attributes[\"http.response.status_code\"], \"5\")")).as("not a string").isFalse();
  }

  @Test
  void needsTellTheSamplerWhatToKeep() {
    SpanCondition c = SpanCondition.parse("name == \"x\" or attributes[\"a\"] == 1 or resource.attributes[\"r\"] == 2");
    assertThat(c.needs().spanName()).isTrue();
    assertThat(c.needs().attributeKeys()).isEqualTo(Set.of("a"));
    assertThat(SpanCondition.parse("kind == SPAN_KIND_SERVER").needs().spanName()).isFalse();
  }

  @Test
  void syntaxErrorsSayWhereAndWhat() {
    for (List<String> bad : List.of(
        List.of("name = \"x\"", "column 6: unexpected '= \"x\"'"),
        List.of("nme == \"x\"", "column 1: unknown path \"nme\""),
        List.of("name == \"x", "column 9: unterminated string"),
        List.of("(name == \"x\"", "expected \")\", found the end"),
        List.of("attributes[http] == 1", "expected a quoted attribute key"),
        List.of("IsMatch(name, \"(\")", "invalid RE2 pattern"),
        List.of("name ==", "expected a value or a path, found the end"))) {
      assertThatThrownBy(() -> SpanCondition.parse(bad.get(0))).as(bad.get(0))
          .isInstanceOf(SpanCondition.SyntaxException.class).hasMessageContaining(bad.get(1));
    }
  }

  @Test
  void policyKeepsTracesWithAMatchingSpanAndReportsBadConditionsByPath() {
    SamplingPolicy p = new SamplingPolicy.OttlCondition("slow-errors", List.of("status.code == STATUS_CODE_ERROR"),
        List.of(SpanCondition.parse("status.code == STATUS_CODE_ERROR")));
    Trace t = new Trace(CHECKOUT.getTraceId(), 0);
    t.add(Trace.Entry.of(RESOURCE, "", InstrumentationScope.getDefaultInstance(), "", CHECKOUT.toBuilder()
        .clearStatus().build(), Set.of(), false, 1, null));
    assertThat(p.compile(() -> 1.0).evaluate(t, 0)).isEqualTo(Decision.NOT_SAMPLE);
    t.add(Trace.Entry.of(RESOURCE, "", InstrumentationScope.getDefaultInstance(), "", CHECKOUT, Set.of(), false, 1,
        null));
    assertThat(p.compile(() -> 1.0).evaluate(t, 0)).isEqualTo(Decision.SAMPLE);
  }
}
