package dev.telemetry.gateway.admin;

import dev.telemetry.gateway.config.AdminConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import dev.telemetry.gateway.routing.Explainer;
import dev.telemetry.gateway.routing.RouteTables;
import dev.telemetry.gateway.routing.RoutesFile;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * The admin HTTP listener: {@code GET /metrics} (Prometheus text format), {@code /health/live}, {@code /health/ready},
 * {@code /cluster} (clustered mode), the bearer-token protected API under {@code /api/} (routing table
 * management, and the views and actions other components register), and static files such as the console's.
 */
public final class AdminServer {
  private final Vertx vertx;
  private final AdminConfig config;
  private final PrometheusMeterRegistry registry;
  private final Health health;
  private HttpServer server;
  private RoutesApi routes;
  private java.util.function.Supplier<JsonObject> cluster;
  private volatile dev.telemetry.gateway.security.audit.AuditLog audit;

  /** Records every API call (who, what, outcome) in the audit log; before start. */
  public void auditTo(dev.telemetry.gateway.security.audit.AuditLog audit) {
    this.audit = audit;
  }

  /** Serves the routing API (requires {@code admin.token}); call before {@link #start()}. */
  public void routes(RouteTables tables, RoutesFile file, Explainer explainer) {
    this.routes = new RoutesApi(vertx, tables, file, explainer);
  }

  private final java.util.Map<String, java.util.function.Supplier<Future<JsonObject>>> views =
      new java.util.LinkedHashMap<>();
  private final java.util.Set<String> changeOnlyViews = new java.util.HashSet<>();

  /** Serves {@code GET path} (under /api/, behind the token) as the JSON {@code view} gives; before start. */
  public void view(String path, java.util.function.Supplier<Future<JsonObject>> view) {
    views.put(path, view);
  }

  /** As {@link #view}, readable only with a token of role change (the view shows data, not just state). */
  public void changeRoleView(String path, java.util.function.Supplier<Future<JsonObject>> view) {
    views.put(path, view);
    changeOnlyViews.add(path);
  }

  private String assetsPath;
  private String assetsRoot;

  /**
   * Serves the classpath folder {@code root} at {@code path} (e.g. {@code /console}) without a token: static files
   * only — everything they show comes from the API, which asks for one. Before start.
   */
  public void assets(String path, String root) {
    this.assetsPath = path;
    this.assetsRoot = root;
  }

  private final java.util.Map<String, java.util.function.Function<JsonObject, Future<JsonObject>>> actions =
      new java.util.LinkedHashMap<>();

  /**
   * Serves {@code POST path} (under /api/, behind the token): the JSON body to {@code action}, its answer as JSON;
   * an {@link IllegalArgumentException} is the client's mistake (400). Before start.
   */
  public void action(String path, java.util.function.Function<JsonObject, Future<JsonObject>> action) {
    actions.put(path, action);
  }

  /** Serves {@code GET /cluster}: this member's view of the cluster (read-only, like /health). */
  public void cluster(java.util.function.Supplier<JsonObject> view) {
    this.cluster = view;
  }

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
    router.get("/cluster").handler(ctx -> {
      if (cluster == null) {
        RoutesApi.error(ctx, 404, "standalone mode: no \"cluster\" section in the gateway config");
      } else {
        ctx.json(cluster.get());
      }
    });
    if (assetsPath != null) {
      // Vert.x matches "/console" and "/console/" alike: only the bare path is redirected.
      router.get(assetsPath).handler(ctx -> {
        if (ctx.request().path().equals(assetsPath)) {
          ctx.redirect(assetsPath + "/");
        } else {
          ctx.next();
        }
      });
      router.route(assetsPath + "/*").handler(ctx -> {
        // The console loads only its own files and talks only to this server.
        ctx.response().putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                + "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'")
            .putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer")
            .putHeader("Cache-Control", "no-cache");
        ctx.next();
      });
      router.route(assetsPath + "/*").handler(io.vertx.ext.web.handler.StaticHandler.create(assetsRoot)
          .setCachingEnabled(false).setDirectoryListing(false).setIndexPage("index.html"));
    }
    router.route("/api/*").handler(this::authorize);
    views.forEach((path, view) -> router.get(path).handler(ctx -> {
      if (changeOnlyViews.contains(path) && ctx.get(ROLE) != AdminConfig.Role.CHANGE) {
        RoutesApi.error(ctx, 403, "GET " + path + " shows received data: it needs a token with role change");
        return;
      }
      ctx.next();
    }).handler(ctx -> view.get().onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.json(ar.result());
      } else {
        RoutesApi.error(ctx, 500, ar.cause().getMessage());
      }
    })));
    actions.forEach((path, action) -> {
      router.post(path).handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(1 << 20));
      router.post(path).handler(ctx -> {
        JsonObject body;
        try {
          body = ctx.body().asJsonObject();
        } catch (RuntimeException e) {
          RoutesApi.error(ctx, 400, "the body must be a JSON object: " + e.getMessage());
          return;
        }
        if (body == null) {
          RoutesApi.error(ctx, 400, "the body must be a JSON object");
          return;
        }
        action.apply(body).onComplete(ar -> {
          if (ar.succeeded()) {
            ctx.json(ar.result());
          } else {
            RoutesApi.error(ctx, ar.cause() instanceof IllegalArgumentException ? 400 : 500,
                ar.cause().getMessage());
          }
        });
      });
    });
    if (routes != null) {
      routes.mount(router);
    } else {
      router.route("/api/v1/routes*").handler(ctx -> RoutesApi.error(ctx, 404, "routing is not configured: set "
          + "\"routing\": {\"file\": ...} in the gateway config"));
    }
    HttpServerOptions options = new HttpServerOptions().setHost(config.endpoint().host())
        .setPort(config.endpoint().port());
    if (config.tls() == null) {
      server = vertx.createHttpServer(options);
      return server.requestHandler(router).listen().mapEmpty();
    }
    // HTTPS: the files are read (and checked) first; a changed pair is served without a restart.
    return vertx.executeBlocking(() -> new dev.telemetry.gateway.security.tls.ServerTls("admin", config.tls(),
        registry), false).compose(tls -> {
          this.tls = tls;
          server = vertx.createHttpServer(tls.apply(options, false));
          tls.register(server, false);
          tls.watch(vertx);
          return server.requestHandler(router).listen().mapEmpty();
        });
  }

  private dev.telemetry.gateway.security.tls.ServerTls tls;
  /** Where {@link #authorize} leaves the caller's role for the handlers after it. */
  private static final String ROLE = "admin.role";

  /**
   * The API needs {@code Authorization: Bearer <token>}: {@code admin.token} (role change) or one of
   * {@code admin.tokens} (role read: GET only; change: everything); without any it is disabled. Every call is audited.
   */
  private void authorize(RoutingContext ctx) {
    String method = ctx.request().method().name();
    String path = ctx.request().path();
    String from = String.valueOf(ctx.request().remoteAddress());
    String[] actor = {"unauthenticated client " + from};
    dev.telemetry.gateway.security.audit.AuditLog a = audit;
    if (a != null) {
      ctx.addEndHandler(v -> {
        int status = ctx.response().getStatusCode();
        a.record("admin", actor[0], method + " " + path, status < 400 ? "ok" : status == 401 || status == 403
            ? "denied" : "failed", "HTTP " + status);
      });
    }
    if (!config.apiEnabled()) {
      RoutesApi.error(ctx, 403, "the admin API is disabled: set admin.token (or admin.tokens) in the gateway config");
      return;
    }
    String auth = ctx.request().getHeader("Authorization");
    AdminConfig.Role role = null;
    String name = null;
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      byte[] presented = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
      if (config.token() != null && MessageDigest.isEqual(config.token().getBytes(StandardCharsets.UTF_8),
          presented)) {
        role = AdminConfig.Role.CHANGE;
        name = "admin.token";
      }
      byte[] digest = sha256(presented);
      for (AdminConfig.AdminToken t : config.tokens()) {
        // Every token is compared (no early exit), each in constant time.
        if (MessageDigest.isEqual(digest, java.util.HexFormat.of().parseHex(t.sha256())) && role == null) {
          role = t.role();
          name = t.name();
        }
      }
    }
    if (role == null) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"telemetry-gateway\"");
      RoutesApi.error(ctx, 401, "missing or wrong bearer token (Authorization: Bearer <admin token>)");
      return;
    }
    actor[0] = "token " + name + " from " + from;
    ctx.put(ROLE, role);
    boolean reads = ctx.request().method() == io.vertx.core.http.HttpMethod.GET
        || ctx.request().method() == io.vertx.core.http.HttpMethod.HEAD;
    if (!reads && role != AdminConfig.Role.CHANGE) {
      RoutesApi.error(ctx, 403, "token " + name + " may only read (role read); " + method + " " + path
          + " needs a token with role change");
      return;
    }
    ctx.next();
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public int port() {
    return server.actualPort();
  }

  public Future<Void> stop() {
    if (tls != null) {
      tls.stop(vertx);
    }
    return server == null ? Future.succeededFuture() : server.close();
  }
}
