package dev.telemetry.gateway.testing;

import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.Gateway;
import dev.telemetry.gateway.config.GatewayConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real gateway in-process on free loopback ports, from a config template in which {@code {{GRPC}}},
 * {@code {{HTTP}}} and {@code {{ADMIN}}} are replaced by ports and any other {@code {{KEY}}} by the given values.
 * Vert.x runs with a tight blocked-thread check; {@link #close()} fails the test if an event loop was blocked.
 */
public final class GatewayHarness implements AutoCloseable {
  public final int grpcPort = Ports.free();
  public final int httpPort = Ports.free();
  public final int adminPort = Ports.free();
  public final Vertx vertx;
  public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final Gateway gateway;
  private final BlockedThreadWatch watch = BlockedThreadWatch.install();

  private GatewayHarness(String template, Map<String, String> values) throws Exception {
    Map<String, String> all = new HashMap<>(values);
    all.put("GRPC", Integer.toString(grpcPort));
    all.put("HTTP", Integer.toString(httpPort));
    all.put("ADMIN", Integer.toString(adminPort));
    String json = template;
    for (Map.Entry<String, String> e : all.entrySet()) {
      json = json.replace("{{" + e.getKey() + "}}", e.getValue());
    }
    GatewayConfig config = Components.configLoader().parse(json, Path.of("."));
    vertx = Vertx.builder()
        .with(new VertxOptions()
            .setBlockedThreadCheckInterval(100)
            .setMaxEventLoopExecuteTime(200)
            .setMaxEventLoopExecuteTimeUnit(TimeUnit.MILLISECONDS)
            .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true)))
        .withMetrics(new MicrometerMetricsFactory(registry))
        .build();
    gateway = new Gateway(config, vertx, registry);
    try {
      gateway.start().await(30, TimeUnit.SECONDS);
    } catch (Exception | Error e) {
      // A gateway that failed to start must not keep its listeners (or threads) for the tests after this one.
      vertx.close().await(10, TimeUnit.SECONDS);
      watch.close();
      throw e;
    }
  }

  public static GatewayHarness start(String template, Map<String, String> values) throws Exception {
    return new GatewayHarness(template, values);
  }

  public String grpcEndpoint() {
    return "http://127.0.0.1:" + grpcPort;
  }

  public String httpBase() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** Sum of all counters with this name and these tags (key, value, key, value...). */
  public double counter(String name, String... tags) {
    return registry.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
  }

  public double gauge(String name, String... tags) {
    return registry.find(name).tags(tags).gauges().stream().mapToDouble(Gauge::value).sum();
  }

  @Override
  public void close() throws Exception {
    try {
      gateway.stop().await(30, TimeUnit.SECONDS);
      vertx.close().await(30, TimeUnit.SECONDS);
    } finally {
      watch.close();
    }
    if (!watch.warnings().isEmpty()) {
      throw new AssertionError("an event loop was blocked: " + watch.warnings());
    }
  }
}
