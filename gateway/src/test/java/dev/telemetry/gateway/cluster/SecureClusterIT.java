package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Certificates;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.Tokens;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster with security on: two gateway processes whose OTLP/gRPC listeners require client certificates, that
 * forward each trace to its owner over that mutual TLS (OTLP/gRPC transport, each member presenting its own
 * certificate) and talk over an event bus with mutual TLS, while clients must present a bearer token. Every error
 * trace a client got acknowledged at either member arrives at the backend — half of them forwarded — and a client
 * without a token gets 401 from both.
 */
class SecureClusterIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final String CLIENT_TOKEN = "client-token-0123456789abcdef";

  @TempDir
  Path tmp;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  record Member(int index, int http, int grpc, int admin, int bus, int hazelcast) {
  }

  @Test
  void membersForwardOverMutualTlsAndClientsMustAuthenticate() throws Exception {
    Certificates pki = new Certificates(tmp.resolve("pki"), "cluster-ca").member("member0", "gateway-0")
        .member("member1", "gateway-1");
    Vertx vertx = Vertx.vertx();
    OtlpSink sink = new OtlpSink(vertx, Ports.free()).start();
    List<Member> members = List.of(new Member(0, Ports.free(), Ports.free(), Ports.free(), Ports.free(),
        Ports.free()), new Member(1, Ports.free(), Ports.free(), Ports.free(), Ports.free(), Ports.free()));
    List<Process> processes = new ArrayList<>();
    try {
      for (Member m : members) {
        processes.add(start(m, members, pki, sink));
      }
      Await.until("a ring of two", Duration.ofSeconds(90), () -> members.stream().allMatch(m -> ring(m) == 2));

      // Error traces (one span each) to both members; about half are owned by the other member.
      Random random = new Random(7);
      Set<ByteString> acked = new HashSet<>();
      for (int i = 0; i < 60; i++) {
        byte[] id = new byte[16];
        random.nextBytes(id);
        Member to = members.get(i % 2);
        HttpResponse<Void> r = post(to, trace(id), "Bearer " + CLIENT_TOKEN);
        if (r.statusCode() == 200) {
          acked.add(ByteString.copyFrom(id));
        }
      }
      assertThat(acked).hasSizeGreaterThan(50);
      Await.until("every acknowledged trace at the backend", Duration.ofSeconds(30), () -> {
        Set<ByteString> got = new HashSet<>();
        sink.spans().forEach(s -> got.add(s.getTraceId()));
        return got.containsAll(acked);
      });
      double forwarded = members.stream().mapToDouble(m -> Http.metric(http, m.admin(),
          "gateway_cluster_forward_sent_spans_total")).sum();
      assertThat(forwarded).as("spans forwarded to their owner over mutual TLS").isGreaterThan(10);
      for (Member m : members) {
        assertThat(post(m, trace(new byte[16]), null).statusCode()).as("no token at member %d", m.index())
            .isEqualTo(401);
        assertThat(post(m, trace(new byte[16]), "Bearer wrong").statusCode()).isEqualTo(401);
      }
    } finally {
      for (Process p : processes) {
        p.destroy();
      }
      for (Process p : processes) {
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
      sink.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  Process start(Member m, List<Member> all, Certificates pki, OtlpSink sink) throws Exception {
    String cert = pki.cert("member" + m.index()).toString();
    String key = pki.key("member" + m.index()).toString();
    String ca = pki.caCert().toString();
    String peers = "\"127.0.0.1:" + all.get(0).hazelcast() + "\", \"127.0.0.1:" + all.get(1).hazelcast() + "\"";
    Path config = tmp.resolve("member" + m.index() + ".json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp",
           "grpc": {"endpoint": "127.0.0.1:%d", "tls": {"cert_file": "%s", "key_file": "%s", "client_ca_file": "%s"}},
           "http": {"endpoint": "127.0.0.1:%d"}}},
         "processors": {"sampling": {"type": "tail_sampling", "decision_wait": "1s",
           "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
         "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "batch": {"timeout": "5ms"}}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["sampling"], "exporters": ["jaeger"]}},
         "auth": {"tokens": [{"name": "clients", "sha256": "%s", "tenant": "shop"}]},
         "admin": {"endpoint": "127.0.0.1:%d"},
         "shutdown_timeout": "5s",
         "cluster": {"name": "secure-it-%s", "bind": "127.0.0.1:%d", "event_bus": "127.0.0.1:%d",
           "event_bus_tls": {"cert_file": "%s", "key_file": "%s", "client_ca_file": "%s"},
           "failure_timeout": "4s", "discovery": {"type": "tcp", "members": [%s]},
           "forwarding": {"transport": "otlp_grpc", "receiver": "otlp", "token": "cluster-token-0123456789abcdef",
                          "tls": {"ca_file": "%s", "cert_file": "%s", "key_file": "%s"}}}}"""
        .formatted(m.grpc(), cert, key, ca, m.http(), sink.port(), Tokens.sha256(CLIENT_TOKEN), m.admin(),
            tmp.getFileName(), m.hazelcast(), m.bus(), cert, key, ca, peers, ca, cert, key));
    return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar",
        JAR.toAbsolutePath().toString(), "--config", config.toString()).directory(ROOT.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("member" + m.index()
            + ".log").toFile())).start();
  }

  int ring(Member m) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.admin()
          + "/cluster")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()).getJsonArray("ring").size() : -1;
    } catch (Exception e) {
      return -1;
    }
  }

  HttpResponse<Void> post(Member m, byte[] body, String authorization) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.http() + "/v1/traces"))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      if (authorization != null) {
        b.header("Authorization", authorization);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] trace(byte[] id) {
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(
        ScopeSpans.newBuilder().addSpans(Span.newBuilder().setTraceId(ByteString.copyFrom(id))
            .setSpanId(ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})).setName("checkout")
            .setStartTimeUnixNano(1).setEndTimeUnixNano(2)
            .setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR))))).build().toByteArray();
  }

}
