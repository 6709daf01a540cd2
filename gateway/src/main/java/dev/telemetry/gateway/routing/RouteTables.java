package dev.telemetry.gateway.routing;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The live routing table and its history. A new table is validated, compiled, and swapped in atomically: requests
 * already routing keep the matcher they read, new ones get the new one, so nothing in flight is lost or routed
 * twice. Every change gets a new version number (a rollback too) and one audit log line. A table that fails
 * validation never replaces the current one.
 */
public final class RouteTables {
  /** The audit trail of table changes (time, source, version, summary of the diff): one line per change. */
  public static final Logger AUDIT = Logger.getLogger("dev.telemetry.gateway.routing.audit");

  /** One applied table. {@code source} says where it came from (file, sighup, api from an address, rollback). */
  public record Version(int number, Instant appliedAt, String source, String summary, RoutingTable table) {
    public JsonObject describe() {
      return new JsonObject().put("version", number).put("applied_at", appliedAt.toString()).put("source", source)
          .put("summary", summary).put("rules", table.rules().size());
    }
  }

  private final RoutingCatalog catalog;
  private final MeterRegistry registry;
  private final int historyLimit;
  private final Deque<Version> history = new ArrayDeque<>();
  private volatile RouteMatcher current;
  private volatile Version currentVersion;
  private int nextVersion = 1;
  private volatile Replication replication;

  /**
   * How a cluster shares the table: every change is published as the cluster's next version before it is installed
   * here, and the other members install it with the same number.
   */
  public interface Replication {
    /**
     * Publishes {@code table} as the cluster's next version (blocking: call off the event loop) and returns what to
     * install: normally that table with its cluster-wide number; for {@code initial} (this member's first table,
     * from its file) the cluster's current table instead, when the cluster already has one.
     */
    Published publish(JsonObject table, String source, boolean initial) throws RoutingTableException;
  }

  /** A table as the cluster numbered it. */
  public record Published(int version, JsonObject table, String source) {
  }

  /** Shares changes through {@code replication} (clustered mode); set before the first table. */
  public void replicateWith(Replication replication) {
    this.replication = replication;
  }

  public RouteTables(RoutingCatalog catalog, MeterRegistry registry, int historyLimit) {
    this.catalog = catalog;
    this.registry = registry;
    this.historyLimit = historyLimit;
    Gauge.builder("gateway.routing.table.version", () -> currentVersion == null ? 0 : currentVersion.number())
        .description("Version number of the routing table in use").register(registry);
  }

  public RoutingCatalog catalog() {
    return catalog;
  }

  /** The matcher of the table in use; null before the first table. Read once per request. */
  public RouteMatcher current() {
    return current;
  }

  public Version currentVersion() {
    return currentVersion;
  }

  /** Validates a table without applying it. */
  public RoutingTable validate(JsonObject json) throws RoutingTableException {
    return RoutingTableParser.parse(json, catalog);
  }

  /**
   * Validates and applies a table; returns the new version, or the current one when the table is the same as the
   * one in use (nothing to do, logged as unchanged). Blocking work (compiling patterns) happens on the caller's
   * thread, so call it off the event loop for large tables.
   */
  public synchronized Version apply(JsonObject json, String source) throws RoutingTableException {
    RoutingTable table;
    try {
      table = validate(json);
    } catch (RoutingTableException e) {
      count(source, "rejected");
      AUDIT.warning("routing table rejected (source: " + source + "), version " + versionNumber()
          + " stays in use: " + String.join("; ", e.problems()));
      throw e;
    }
    if (currentVersion != null && currentVersion.table().source().equals(table.source())) {
      count(source, "unchanged");
      return currentVersion;
    }
    return install(table, source);
  }

  /**
   * Installs a version another cluster member published (on a worker thread); ignored when this member already has
   * that version or a newer one. A table this member cannot validate (configs differ) keeps the current one.
   */
  public synchronized Version applyReplicated(JsonObject json, String source, int number)
      throws RoutingTableException {
    if (currentVersion != null && currentVersion.number() >= number) {
      return currentVersion;
    }
    RoutingTable table;
    try {
      table = validate(json);
    } catch (RoutingTableException e) {
      count("cluster", "rejected");
      AUDIT.warning("routing table version " + number + " from the cluster rejected, version " + versionNumber()
          + " stays in use (do all members run the same configuration?): " + String.join("; ", e.problems()));
      throw e;
    }
    return installAt(table, source, number);
  }

  /**
   * Re-applies an earlier version (the one before the current when {@code version} is empty) as a new version.
   * Fails when that version is no longer in the history, or is not valid for this gateway any more.
   */
  public synchronized Version rollback(Optional<Integer> version, String source) throws RoutingTableException {
    Version target;
    if (version.isPresent()) {
      target = history.stream().filter(v -> v.number() == version.get()).findFirst().orElse(null);
      if (target == null) {
        throw new RoutingTableException(List.of("version: " + version.get() + " is not in the history (kept: "
            + history.stream().map(v -> String.valueOf(v.number())).toList() + ")"));
      }
    } else {
      List<Version> list = new ArrayList<>(history);
      int at = list.indexOf(currentVersion);
      if (at <= 0) {
        throw new RoutingTableException(List.of("version: there is no earlier version to roll back to"));
      }
      target = list.get(at - 1);
    }
    RoutingTable revalidated = validate(target.table().source());
    return install(revalidated, source + " (rollback to version " + target.number() + ")");
  }

  /** Oldest first. */
  public synchronized List<Version> history() {
    return List.copyOf(history);
  }

  private Version install(RoutingTable table, String source) throws RoutingTableException {
    Replication r = replication;
    if (r == null) {
      return installAt(table, source, nextVersion);
    }
    Published p = r.publish(table.source(), source, currentVersion == null);
    if (currentVersion != null && currentVersion.number() >= p.version()) {
      return currentVersion; // a newer version from the cluster got here first
    }
    RoutingTable published = p.table().equals(table.source()) ? table : validate(p.table());
    return installAt(published, p.source(), p.version());
  }

  private Version installAt(RoutingTable table, String source, int number) {
    RouteMatcher matcher = new RouteMatcher(table, registry);
    JsonObject previous = currentVersion == null ? RoutingTable.EMPTY.source() : currentVersion.table().source();
    String summary = TableDiff.summarize(previous, table.source());
    Version v = new Version(number, Instant.now(), source, summary, table);
    nextVersion = number + 1;
    current = matcher;
    currentVersion = v;
    history.addLast(v);
    while (history.size() > historyLimit) {
      history.removeFirst();
    }
    count(source, "applied");
    AUDIT.info("routing table version " + v.number() + " applied (source: " + source + "): " + summary);
    return v;
  }

  private int versionNumber() {
    return currentVersion == null ? 0 : currentVersion.number();
  }

  private void count(String source, String result) {
    String kind = source.split("[ (]", 2)[0];
    Counter.builder("gateway.routing.table.changes").description("Routing table loads, by source and result")
        .tag("source", kind).tag("result", result).register(registry).increment();
  }
}
