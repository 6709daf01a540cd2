package dev.telemetry.gateway.admin;

import dev.telemetry.gateway.config.AdminConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

/** The admin HTTP listener: {@code GET /metrics} (Prometheus text format), {@code /health/live}, {@code /health/ready}. */
public final class AdminServer {
  private final Vertx vertx;
  private final AdminConfig config;
  private final PrometheusMeterRegistry registry;
  private final Health health;
  private HttpServer server;

  public AdminServer(Vertx vertx, AdminConfig config, PrometheusMeterRegistry registry, Health health) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.health = health;
  }

  public Future<Void> start() {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
    router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "up")));
    router.get("/health/ready").handler(ctx -> ctx.response()
        .setStatusCode(health.ready() ? 200 : 503)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("status", health.status()).encode()));
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(config.endpoint().host()).setPort(config.endpoint().port()));
    return server.requestHandler(router).listen().mapEmpty();
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> stop() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
