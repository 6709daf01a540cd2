package dev.telemetry.gateway.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for an unreachable SaaS (Slack's incoming webhooks, PagerDuty's Events API): records every request
 * body by path and answers what those services answer on success.
 */
public final class RecordingServer implements AutoCloseable {
  public record Request(String path, JsonObject body, long atMillis) {
  }

  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  public RecordingServer(Vertx vertx) throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      JsonObject json;
      try {
        json = body.toJsonObject();
      } catch (RuntimeException e) {
        json = new JsonObject().put("raw", body.toString());
      }
      requests.add(new Request(req.path(), json, System.currentTimeMillis()));
      if (req.path().startsWith("/pagerduty")) {
        req.response().setStatusCode(202).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("status", "success").put("message", "Event processed").encode());
      } else {
        req.response().setStatusCode(200).end("ok");
      }
    })).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
  }

  public int port() {
    return server.actualPort();
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port() + path;
  }

  public List<Request> received(String path) {
    List<Request> out = new ArrayList<>();
    for (Request r : requests) {
      if (r.path().equals(path)) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public void close() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }
}
