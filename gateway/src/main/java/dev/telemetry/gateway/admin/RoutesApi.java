package dev.telemetry.gateway.admin;

import dev.telemetry.gateway.routing.Explainer;
import dev.telemetry.gateway.routing.RouteTables;
import dev.telemetry.gateway.routing.RoutesFile;
import dev.telemetry.gateway.routing.RoutingTableException;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The routing table API under {@code /api/v1/routes}: read, replace (validated; {@code ?dry_run=true} only
 * validates), history, rollback, explain. Writes go through {@link RouteTables}, so they are versioned and audited;
 * a table installed here is also written to the routing file when it can be.
 */
final class RoutesApi {
  private static final Logger LOG = Logger.getLogger(RoutesApi.class.getName());
  private static final long MAX_BODY = 8L * 1024 * 1024;

  private final Vertx vertx;
  private final RouteTables tables;
  private final RoutesFile file;
  private final Explainer explainer;

  RoutesApi(Vertx vertx, RouteTables tables, RoutesFile file, Explainer explainer) {
    this.vertx = vertx;
    this.tables = tables;
    this.file = file;
    this.explainer = explainer;
  }

  void mount(Router router) {
    router.route("/api/v1/routes*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY));
    router.get("/api/v1/routes").handler(this::get);
    router.put("/api/v1/routes").handler(this::put);
    router.get("/api/v1/routes/history").handler(this::history);
    router.post("/api/v1/routes/rollback").handler(this::rollback);
    router.post("/api/v1/routes/explain").handler(this::explain);
  }

  private void get(RoutingContext ctx) {
    String v = ctx.queryParams().get("version");
    RouteTables.Version version = tables.currentVersion();
    if (v != null) {
      version = tables.history().stream().filter(x -> String.valueOf(x.number()).equals(v)).findFirst()
          .orElse(null);
      if (version == null) {
        error(ctx, 404, "version " + v + " is not in the history");
        return;
      }
    }
    ctx.json(version.describe().put("table", version.table().source()));
  }

  private void put(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    boolean dryRun = "true".equals(ctx.queryParams().get("dry_run"));
    String source = "api from " + ctx.request().remoteAddress().host();
    if (dryRun) {
      vertx.executeBlocking(() -> tables.validate(body), false).onComplete(ar -> {
        if (ar.failed()) {
          fail(ctx, ar.cause());
        } else {
          ctx.json(new JsonObject().put("valid", true).put("rules", ar.result().rules().size()));
        }
      });
      return;
    }
    vertx.executeBlocking(() -> tables.apply(body, source), false).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      RouteTables.Version v = ar.result();
      file.persist(body).onComplete(p -> {
        JsonObject out = v.describe().put("persisted", p.succeeded());
        if (p.failed()) {
          String why = "applied, but not written to " + file.path() + " (" + p.cause().getMessage()
              + "); it is lost on restart and replaced when that file changes";
          LOG.warning("routing table version " + v.number() + " " + why);
          out.put("warning", why);
        }
        ctx.json(out);
      });
    });
  }

  private void history(RoutingContext ctx) {
    JsonArray out = new JsonArray();
    tables.history().forEach(v -> out.add(v.describe()));
    ctx.json(new JsonObject().put("current", tables.currentVersion().number()).put("versions", out));
  }

  private void rollback(RoutingContext ctx) {
    Optional<Integer> target = Optional.empty();
    if (ctx.body().length() > 0) {
      JsonObject body = jsonBody(ctx);
      if (body == null) {
        return;
      }
      if (body.containsKey("version")) {
        if (!(body.getValue("version") instanceof Number n)) {
          error(ctx, 400, "version: expected a version number (see GET /api/v1/routes/history)");
          return;
        }
        target = Optional.of(n.intValue());
      }
    }
    Optional<Integer> t = target;
    String source = "rollback from " + ctx.request().remoteAddress().host();
    vertx.executeBlocking(() -> tables.rollback(t, source), false).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, ar.cause());
        return;
      }
      RouteTables.Version v = ar.result();
      file.persist(v.table().source()).onComplete(p -> ctx.json(v.describe().put("persisted", p.succeeded())));
    });
  }

  private void explain(RoutingContext ctx) {
    JsonObject body = jsonBody(ctx);
    if (body == null) {
      return;
    }
    String header = tables.current() == null ? null : tables.current().table().tenant().header();
    String tenant = header == null ? null : ctx.request().getHeader(header);
    vertx.executeBlocking(() -> explainer.explain(body, tenant), false).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.json(ar.result());
      } else if (ar.cause() instanceof IllegalArgumentException e) {
        error(ctx, 400, e.getMessage());
      } else {
        fail(ctx, ar.cause());
      }
    });
  }

  private static JsonObject jsonBody(RoutingContext ctx) {
    try {
      JsonObject o = ctx.body().asJsonObject();
      if (o == null) {
        error(ctx, 400, "expected a JSON object body");
      }
      return o;
    } catch (DecodeException | ClassCastException e) {
      error(ctx, 400, "the body is not a JSON object: " + e.getMessage());
      return null;
    }
  }

  private static void fail(RoutingContext ctx, Throwable e) {
    if (e instanceof RoutingTableException rte) {
      ctx.response().setStatusCode(rte.problems().stream().anyMatch(p -> p.startsWith("version:")) ? 409 : 400)
          .putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("error", "invalid routing table; the current table stays in use")
              .put("problems", new JsonArray(rte.problems())).encode());
    } else {
      LOG.warning("routing API request failed: " + e);
      error(ctx, 500, String.valueOf(e.getMessage()));
    }
  }

  static void error(RoutingContext ctx, int status, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}
