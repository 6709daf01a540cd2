package dev.telemetry.gateway.otlp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.ArrayValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OtlpJsonTest {

  static ExportTraceServiceRequest traces(String json) throws OtlpJsonException {
    return (ExportTraceServiceRequest) OtlpJson.parse(json.getBytes(StandardCharsets.UTF_8),
        Signal.TRACES.newRequestBuilder());
  }

  @Test
  void sdkDataRoundTripsExactly() throws Exception {
    ExportTraceServiceRequest t = SdkTelemetry.expectedTraces(SdkTelemetry.spans("rt", 3));
    assertThat(OtlpJson.parse(OtlpJson.write(t), Signal.TRACES.newRequestBuilder())).isEqualTo(t);
    ExportMetricsServiceRequest m = SdkTelemetry.expectedMetrics(SdkTelemetry.metrics("rt"));
    assertThat(OtlpJson.parse(OtlpJson.write(m), Signal.METRICS.newRequestBuilder())).isEqualTo(m);
    ExportLogsServiceRequest l = SdkTelemetry.expectedLogs(SdkTelemetry.logs("rt", 3));
    assertThat(OtlpJson.parse(OtlpJson.write(l), Signal.LOGS.newRequestBuilder())).isEqualTo(l);
  }

  @Test
  void writesTheOtlpFlavourOfProto3Json() {
    Span span = Span.newBuilder()
        .setTraceId(ByteString.fromHex("5b8efff798038103d269b633813fc60c"))
        .setSpanId(ByteString.fromHex("eee19b7ec3c1b174"))
        .setKind(Span.SpanKind.SPAN_KIND_SERVER)
        .setStartTimeUnixNano(1544712660000000000L)
        .addAttributes(KeyValue.newBuilder().setKey("b").setValue(AnyValue.newBuilder()
            .setBytesValue(ByteString.copyFromUtf8("hi"))))
        .addAttributes(KeyValue.newBuilder().setKey("nan").setValue(AnyValue.newBuilder().setDoubleValue(Double.NaN)))
        .build();
    String json = new String(OtlpJson.write(span), StandardCharsets.UTF_8);
    assertThat(json).isEqualTo("{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
        + "\"kind\":2,\"startTimeUnixNano\":\"1544712660000000000\",\"attributes\":["
        + "{\"key\":\"b\",\"value\":{\"bytesValue\":\"aGk=\"}},{\"key\":\"nan\",\"value\":{\"doubleValue\":\"NaN\"}}]}");
  }

  @Test
  void readsWhatTheSpecAllows() throws Exception {
    ExportTraceServiceRequest r = traces("""
        {"resource_spans":[{"scopeSpans":[{"spans":[{
          "traceId":"5B8EFFF798038103D269B633813FC60C","span_id":"eee19b7ec3c1b174","kind":"SPAN_KIND_CLIENT",
          "startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000",
          "droppedAttributesCount":3, "flags": 4294967295,
          "attributes":[{"key":"arr","value":{"arrayValue":{"values":[{"intValue":1},{"boolValue":true}]}}}],
          "someFutureField":[1,2,{"x":null}],
          "status":{"code":2}, "traceState": null}]}]}]}""");
    Span s = r.getResourceSpans(0).getScopeSpans(0).getSpans(0);
    assertThat(s.getTraceId()).isEqualTo(ByteString.fromHex("5b8efff798038103d269b633813fc60c"));
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(s.getStartTimeUnixNano()).isEqualTo(1544712660000000000L);
    assertThat(s.getEndTimeUnixNano()).isEqualTo(1544712661000000000L);
    assertThat(s.getFlags()).isEqualTo(-1); // fixed32 0xFFFFFFFF
    assertThat(s.getDroppedAttributesCount()).isEqualTo(3);
    assertThat(s.getAttributes(0).getValue().getArrayValue()).isEqualTo(ArrayValue.newBuilder()
        .addValues(AnyValue.newBuilder().setIntValue(1)).addValues(AnyValue.newBuilder().setBoolValue(true)).build());
    assertThat(s.getStatus().getCodeValue()).isEqualTo(2);
  }

  @Test
  void errorsNameTheJsonPath() {
    assertThatThrownBy(() -> traces("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{\"traceId\":\"xyz\"}]}]}]}"))
        .hasMessage("resourceSpans[0].scopeSpans[0].spans[1].traceId: hex ID has an odd number of digits: \"xyz\"");
    assertThatThrownBy(() -> traces("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"startTimeUnixNano\":\"soon\"}]}]}]}"))
        .hasMessageContaining("spans[0].startTimeUnixNano: expected an unsigned 64-bit integer, found \"soon\"");
    assertThatThrownBy(() -> traces("{\"resourceSpans\":{}}"))
        .hasMessage("resourceSpans: expected an array, found an object");
    assertThatThrownBy(() -> traces("[1]")).hasMessageContaining("expected a JSON object at the top level");
    assertThatThrownBy(() -> traces("{\"resourceSpans\":[")).hasMessageStartingWith("invalid JSON");
    assertThatThrownBy(() -> traces("{} {}")).hasMessageContaining("unexpected content after the top-level object");
    assertThatThrownBy(() -> traces("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"droppedEventsCount\":-1}]}]}]}"))
        .hasMessageContaining("integer out of range for a 32-bit field: -1");
  }
}
