package dev.telemetry.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A traces pipeline of blocked-key redaction and tail sampling takes protobuf requests without decoding them; what
 * reaches the backend must be exactly what the decoding path delivers. Two gateways on one config get the same
 * random requests, one as protobuf (taken encoded), the other as OTLP/JSON (always decoded); their backends must
 * receive the same spans, redacted the same way, and the policies must have seen the redacted values in both.
 */
class EncodedIntakeIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp", "http": {"endpoint": "127.0.0.1:{{HTTP}}"}, "grpc": false}},
        "processors": {
          "hash-emails": {"type": "redaction", "blocked_keys": ["^user\\\\.email$"], "blocked_key_action": "hash",
            "hash_key": "it-secret-key-0123456789"},
          "mask-secrets": {"type": "redaction", "blocked_keys": ["password", "token"], "blocked_key_action": "mask"},
          "sampler": {"type": "tail_sampling", "decision_wait": "300ms", "policies": [
            {"name": "errors", "type": "status_code", "status_codes": ["ERROR"]},
            {"name": "masked", "type": "string_attribute", "key": "password", "values": ["****"]}]}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "{{SINK}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["hash-emails", "mask-secrets", "sampler"],
                                 "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  @Test
  void protobufTakenEncodedDeliversWhatDecodingDelivers() throws Exception {
    Vertx sinkVertx = Vertx.vertx();
    HttpClient client = HttpClient.newHttpClient();
    try (OtlpSink encodedSink = new OtlpSink(sinkVertx, Ports.free()).start();
         OtlpSink decodedSink = new OtlpSink(sinkVertx, Ports.free()).start();
         GatewayHarness encoded = GatewayHarness.start(CONFIG, Map.of("SINK", encodedSink.endpoint()));
         GatewayHarness decoded = GatewayHarness.start(CONFIG, Map.of("SINK", decodedSink.endpoint()))) {
      // The warm-up ran the encoded path before ready, on stand-ins: nothing of it is counted by this pipeline.
      assertThat(encoded.counter("gateway.processor.redaction.redactions")).isZero();
      assertThat(encoded.counter("gateway.processor.tail_sampling.traces")).isZero();
      Random r = new Random(2026);
      int spans = 0;
      java.util.Set<ByteString> traces = new java.util.HashSet<>();
      for (int i = 0; i < 150; i++) {
        ExportTraceServiceRequest request = request(r);
        for (ResourceSpans rs : request.getResourceSpansList()) {
          for (Span s : rs.getScopeSpans(0).getSpansList()) {
            spans++;
            traces.add(s.getTraceId());
          }
        }
        assertThat(post(client, encoded, "application/x-protobuf", request.toByteArray())).isEqualTo(200);
        assertThat(post(client, decoded, "application/json", OtlpJson.write(request))).isEqualTo(200);
      }
      assertThat(encoded.counter("gateway.receiver.items.undecoded")).as("taken encoded").isEqualTo(spans);
      assertThat(decoded.counter("gateway.receiver.items.undecoded")).as("JSON is always decoded").isZero();
      Await.until("every trace decided at both", Duration.ofSeconds(30),
          () -> encoded.counter("gateway.processor.tail_sampling.traces") == traces.size()
              && decoded.counter("gateway.processor.tail_sampling.traces") == traces.size());
      Await.until("both backends have all kept spans", Duration.ofSeconds(10), () -> {
        int x = encodedSink.spans().size();
        int y = decodedSink.spans().size();
        try {
          Thread.sleep(300); // nothing more arrives: the exporters' batches are 5 ms
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return x > 0 && x == y && x == encodedSink.spans().size() && y == decodedSink.spans().size();
      });
      List<Span> a = sorted(encodedSink.spans());
      List<Span> b = sorted(decodedSink.spans());
      assertThat(a).hasSameSizeAs(b).isEqualTo(b);
      assertThat(a).anySatisfy(s -> assertThat(s.getAttributesList()).anySatisfy(kv -> {
        assertThat(kv.getKey()).isEqualTo("user.email");
        assertThat(kv.getValue().getStringValue()).startsWith("hmac:");
      }));
      assertThat(a).anySatisfy(s -> assertThat(s.getStatus().getCode()).isNotEqualTo(Status.StatusCode
          .STATUS_CODE_ERROR)); // kept by the policy that saw the masked password
      assertThat(a).allSatisfy(s -> assertThat(s.getAttributesList()).noneSatisfy(kv -> assertThat(kv.getValue()
          .getStringValue()).contains("@example.com", "hunter")));
      assertThat(encoded.counter("gateway.processor.redaction.redactions", "rule", "blocked_key"))
          .isEqualTo(decoded.counter("gateway.processor.redaction.redactions", "rule", "blocked_key")).isPositive();
    } finally {
      sinkVertx.close().await();
    }
  }

  private static int post(HttpClient client, GatewayHarness gw, String type, byte[] body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces")).header("Content-Type", type)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static List<Span> sorted(List<Span> spans) {
    List<Span> out = new ArrayList<>(spans);
    out.sort(Comparator.comparing((Span s) -> OtlpJson.toHex(s.getTraceId()))
        .thenComparing(s -> OtlpJson.toHex(s.getSpanId())));
    return out;
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  /** Traces of 1 to 4 spans over one to two resources; some ERROR, some with a password, e-mails everywhere. */
  static ExportTraceServiceRequest request(Random r) {
    ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
    for (int res = 0; res < 1 + r.nextInt(2); res++) {
      ScopeSpans.Builder ss = ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder().setName("lib"));
      for (int t = 0; t < 1 + r.nextInt(3); t++) {
        byte[] trace = new byte[16];
        r.nextBytes(trace);
        boolean error = r.nextInt(8) == 0;
        boolean secret = r.nextInt(8) == 0;
        for (int i = 0; i < 1 + r.nextInt(4); i++) {
          byte[] id = new byte[8];
          r.nextBytes(id);
          id[0] |= 1;
          Span.Builder s = Span.newBuilder().setTraceId(ByteString.copyFrom(trace)).setSpanId(ByteString.copyFrom(id))
              .setName("op-" + i).setKind(Span.SpanKind.SPAN_KIND_SERVER).setStartTimeUnixNano(1_000_000L * i)
              .setEndTimeUnixNano(1_000_000L * i + 500).addAttributes(kv("user.email", "u" + r.nextInt(99)
                  + "@example.com")).addAttributes(kv("http.route", "/r/" + i))
              .addEvents(Span.Event.newBuilder().setName("log").addAttributes(kv("token", "t-" + r.nextInt())));
          if (error && i == 0) {
            s.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage("boom"));
          }
          if (secret && i == 0) {
            s.addAttributes(kv("password", "hunter" + r.nextInt(9)));
          }
          ss.addSpans(s);
        }
      }
      req.addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder()
          .addAttributes(kv("service.name", "svc-" + res)).addAttributes(kv("user.email", "owner@example.com")))
          .addScopeSpans(ss));
    }
    return req.build();
  }
}
