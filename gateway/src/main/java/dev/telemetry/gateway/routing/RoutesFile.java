package dev.telemetry.gateway.routing;

import dev.telemetry.gateway.config.RoutingConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.logging.Logger;

/**
 * The routing table file: loaded at start, reloaded when it changes (polled, so it also works for Kubernetes
 * ConfigMap symlink swaps) or on request (SIGHUP), and rewritten atomically when the admin API installs a table so
 * that a restart keeps it. File I/O and table compilation run on worker threads.
 */
public final class RoutesFile {
  private static final Logger LOG = Logger.getLogger(RoutesFile.class.getName());

  private final Vertx vertx;
  private final RoutingConfig config;
  private final RouteTables tables;
  private long timer = -1;
  private volatile String lastSeen;

  public RoutesFile(Vertx vertx, RoutingConfig config, RouteTables tables) {
    this.vertx = vertx;
    this.config = config;
    this.tables = tables;
  }

  public Path path() {
    return config.file();
  }

  /** Reads and validates a table file without applying it (startup checks, {@code --check}). */
  public static RoutingTable check(Path file, RoutingCatalog catalog) throws RoutingTableException {
    return RoutingTableParser.parse(read(file), catalog);
  }

  private static String read(Path file) throws RoutingTableException {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new RoutingTableException(List.of(file + ": cannot read the routing table: " + e));
    }
  }

  /** Applies the file's table (failing the start if it is invalid) and starts watching it. */
  public Future<Void> start() {
    return reload("file").onSuccess(v -> {
      if (!config.watchInterval().isZero()) {
        timer = vertx.setPeriodic(config.watchInterval().toMillis(), id -> poll());
      }
    }).mapEmpty();
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Re-reads the file and applies it if it changed; {@code source} goes to the audit line. */
  public Future<RouteTables.Version> reload(String source) {
    return vertx.executeBlocking(() -> apply(read(config.file()), source), false);
  }

  /** Applies the file's text (on a worker thread); remembered so that polling only reacts to a new text. */
  private RouteTables.Version apply(String text, String source) throws RoutingTableException {
    lastSeen = text;
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      RoutingTableException ex = new RoutingTableException(List.of(config.file() + ": not a valid JSON object: "
          + e.getMessage()));
      RouteTables.AUDIT.warning("routing table rejected (source: " + source + "): " + ex.getMessage());
      throw ex;
    }
    return tables.apply(json, source + " " + config.file());
  }

  private void poll() {
    vertx.executeBlocking(() -> {
      String text;
      try {
        text = read(config.file());
      } catch (RoutingTableException e) {
        LOG.warning("routing table file unreadable, keeping the current table: " + e.getMessage());
        return null;
      }
      return text.equals(lastSeen) ? null : apply(text, "file");
    }, false).onFailure(e -> LOG.warning("routing table file changed but is invalid; version "
        + (tables.currentVersion() == null ? 0 : tables.currentVersion().number()) + " stays in use:\n"
        + e.getMessage()));
  }

  /**
   * Writes a table installed through the API to the file (temp file + atomic rename), so a restart or the next
   * poll does not bring back the old one. Fails, for example, on a read-only ConfigMap mount.
   */
  public Future<Void> persist(JsonObject table) {
    return vertx.executeBlocking(() -> {
      String text = table.encodePrettily() + "\n";
      Path file = config.file().toAbsolutePath();
      Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      lastSeen = text;
      return null;
    }, false);
  }
}
