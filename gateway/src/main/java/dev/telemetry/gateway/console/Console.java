package dev.telemetry.gateway.console;

import dev.telemetry.gateway.admin.AdminServer;
import io.vertx.core.Vertx;

/**
 * The operations console: static files (plain ES modules, no build step, no CDN) served by the admin listener at
 * {@code /console/}, and the two views only it needs — {@code GET /api/v1/topology} and {@code GET
 * /api/v1/samples}. Everything else it shows comes from the API that already exists (routes, SLOs, alerts,
 * forecasts, remediations), behind the same token and the same audit.
 */
public final class Console {
  public static final String PATH = "/console";

  private Console() {
  }

  /** Registers the console with {@code admin} (before it starts); {@code samples} may be null (none kept). */
  public static void mount(AdminServer admin, Vertx vertx, Topology topology, SampleBook samples) {
    // A classpath path no working directory is likely to hold: Vert.x looks on the file system first.
    admin.assets(PATH, "META-INF/telemetry-gateway/console");
    admin.view("/api/v1/topology", () -> vertx.executeBlocking(topology::view, false));
    admin.changeRoleView("/api/v1/samples", () -> samples == null
        ? io.vertx.core.Future.succeededFuture(new io.vertx.core.json.JsonObject().put("samples",
            new io.vertx.core.json.JsonArray()).put("disabled", "admin.samples is 0"))
        : vertx.executeBlocking(samples::view, false));
  }
}
