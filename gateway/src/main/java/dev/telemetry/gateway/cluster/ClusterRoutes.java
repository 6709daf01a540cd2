package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.routing.RouteTables;
import dev.telemetry.gateway.routing.RoutesFile;
import dev.telemetry.gateway.routing.RoutingTableException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Lock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * One routing table version for the whole cluster. The current table lives in a cluster-wide map with its number; a
 * change on any member (admin API, its file, SIGHUP, rollback) takes a cluster lock, stores the next number and
 * announces it; every member then installs that version, and writes it to its own routes file so a restart starts
 * from it. A member joining a cluster that has a table adopts it rather than its file. Each member re-reads the map
 * every few seconds in case it missed an announcement.
 */
final class ClusterRoutes implements RouteTables.Replication {
  private static final Logger LOG = Logger.getLogger(ClusterRoutes.class.getName());
  static final String MAP = "gateway.routing";
  static final String KEY = "table";
  static final String LOCK = "gateway.routing.lock";
  static final String CHANGED = "gateway.routing.changed";
  private static final long WAIT_MILLIS = 10_000;

  private final Vertx vertx;
  private final String self;
  private final RouteTables tables;
  private final RoutesFile file;
  private long timer = -1;

  ClusterRoutes(Vertx vertx, String self, RouteTables tables, RoutesFile file) {
    this.vertx = vertx;
    this.self = self;
    this.tables = tables;
    this.file = file;
  }

  void start() {
    vertx.eventBus().<Integer>consumer(CHANGED, m -> catchUp());
    timer = vertx.setPeriodic(5000, id -> catchUp());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  @Override
  public RouteTables.Published publish(JsonObject table, String source, boolean initial)
      throws RoutingTableException {
    try {
      AsyncMap<String, JsonObject> map = await(vertx.sharedData().getClusterWideMap(MAP));
      Lock lock = await(vertx.sharedData().getLockWithTimeout(LOCK, WAIT_MILLIS));
      try {
        JsonObject current = await(map.get(KEY));
        if (current != null && (initial || current.getJsonObject("table").equals(table))) {
          if (initial && !current.getJsonObject("table").equals(table)) {
            LOG.warning("the cluster's routing table (version " + current.getInteger("version") + ") differs from "
                + "this member's file; using the cluster's and writing it to the file");
            file.persist(current.getJsonObject("table"));
          }
          return published(current);
        }
        int next = (current == null ? 0 : current.getInteger("version")) + 1;
        JsonObject entry = new JsonObject().put("version", next).put("table", table).put("source", source)
            .put("member", self);
        await(map.put(KEY, entry));
        vertx.eventBus().publish(CHANGED, next);
        return published(entry);
      } finally {
        lock.release();
      }
    } catch (RoutingTableException e) {
      throw e;
    } catch (Exception e) {
      throw new RoutingTableException(List.of("cluster: the routing table could not be shared with the other "
          + "members, nothing changed (" + e.getMessage() + "); retry"));
    }
  }

  private RouteTables.Published published(JsonObject entry) {
    String source = entry.getString("member").equals(self) ? entry.getString("source")
        : "cluster: " + entry.getString("source") + " on member " + entry.getString("member");
    return new RouteTables.Published(entry.getInteger("version"), entry.getJsonObject("table"), source);
  }

  /** Installs the cluster's version when it is newer than this member's. */
  private void catchUp() {
    vertx.sharedData().<String, JsonObject>getClusterWideMap(MAP).compose(m -> m.get(KEY)).onSuccess(entry -> {
      RouteTables.Version mine = tables.currentVersion();
      if (entry == null || mine != null && mine.number() >= entry.getInteger("version")) {
        return;
      }
      RouteTables.Published p = published(entry);
      vertx.executeBlocking(() -> tables.applyReplicated(p.table(), p.source(), p.version()), false)
          .compose(v -> file.persist(p.table()))
          .onFailure(e -> LOG.warning("routing table version " + p.version() + " from the cluster: "
              + e.getMessage()));
    });
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(WAIT_MILLIS + 5000, TimeUnit.MILLISECONDS);
  }
}
