package dev.telemetry.gateway.loadtest;

import static io.gatling.javaapi.core.CoreDsl.ByteArrayBody;
import static io.gatling.javaapi.core.CoreDsl.constantUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.rampUsersPerSec;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;

import dev.telemetry.gateway.otlp.Signal;
import io.gatling.javaapi.core.OpenInjectionStep;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * OTLP/HTTP load against a running gateway. Properties (all optional):
 * {@code gateway.url} (http://127.0.0.1:4318), {@code signal} (traces|metrics|logs), {@code encoding}
 * (protobuf|json), {@code rate} (requests/s, 50), {@code items} (per request, 100), {@code profile}
 * (constant|ramp|spike), {@code duration} (seconds, 30), {@code p99.ms} (assertion, 50), {@code error.pct} (1).
 * Open-model injection; bounded by {@code duration}. HTML report under load-tests/target/gatling/.
 */
public class OtlpHttpSimulation extends Simulation {
  static final String URL = System.getProperty("gateway.url", "http://127.0.0.1:4318");
  static final Signal SIGNAL = Signal.fromId(System.getProperty("signal", "traces"));
  static final boolean JSON = System.getProperty("encoding", "protobuf").equals("json");
  static final double RATE = Double.parseDouble(System.getProperty("rate", "50"));
  static final int ITEMS = Integer.getInteger("items", 100);
  static final String PROFILE = System.getProperty("profile", "constant");
  static final int DURATION = Integer.getInteger("duration", 30);
  static final int P99_MS = Integer.getInteger("p99.ms", 50);
  static final double ERROR_PCT = Double.parseDouble(System.getProperty("error.pct", "1"));

  static final byte[][] BODIES = OtlpPayloads.encoded(SIGNAL, JSON, 500, ITEMS, 42);

  /** An endless cycle over the pre-encoded bodies. */
  static Iterator<Map<String, Object>> bodies() {
    int[] i = {0};
    return Stream.generate(() -> Map.<String, Object>of("body", BODIES[i[0]++ % BODIES.length])).iterator();
  }

  static List<OpenInjectionStep> injection() {
    return switch (PROFILE) {
      case "ramp" -> List.of(rampUsersPerSec(1).to(RATE).during(DURATION));
      case "spike" -> List.of(
          constantUsersPerSec(RATE / 4).during(DURATION / 3),
          rampUsersPerSec(RATE / 4).to(RATE * 2).during(2),
          constantUsersPerSec(RATE * 2).during(Math.max(1, DURATION / 6)),
          rampUsersPerSec(RATE * 2).to(RATE / 4).during(2),
          constantUsersPerSec(RATE / 4).during(DURATION / 3));
      default -> List.of(constantUsersPerSec(RATE).during(DURATION));
    };
  }

  HttpProtocolBuilder protocol = http.baseUrl(URL)
      .contentTypeHeader(JSON ? "application/json" : "application/x-protobuf")
      .acceptHeader(JSON ? "application/json" : "application/x-protobuf")
      .shareConnections();

  ScenarioBuilder otlp = scenario("OTLP/HTTP " + SIGNAL.id() + " (" + (JSON ? "json" : "protobuf") + ")")
      .feed(bodies())
      .exec(http("export " + SIGNAL.id()).post(SIGNAL.httpPath()).body(ByteArrayBody("#{body}"))
          .check(status().is(200)));

  {
    setUp(otlp.injectOpen(injection())).protocols(protocol)
        .maxDuration(DURATION + 30)
        .assertions(
            global().failedRequests().percent().lt(ERROR_PCT),
            global().responseTime().percentile(99.0).lt(P99_MS));
  }
}
