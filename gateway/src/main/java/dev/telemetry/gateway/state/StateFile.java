package dev.telemetry.gateway.state;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A small state file a component keeps across restarts (SLO budgets, GenAI month-to-date cost): written whole on a
 * worker thread — a temporary file, then an atomic rename, so a crash leaves the old or the new text, never half of
 * one — and writes in order.
 */
public final class StateFile {
  private final Vertx vertx;
  private final Path path;

  public StateFile(Vertx vertx, Path path) {
    this.vertx = vertx;
    this.path = path;
  }

  public Path path() {
    return path;
  }

  /** Replaces the file's text (ordered with the other writes of this Vert.x instance's ordered blocking tasks). */
  public Future<Void> write(String text) {
    return vertx.executeBlocking(() -> {
      writeNow(path, text);
      return null;
    }, true);
  }

  /** The same, on the calling thread. */
  public static void writeNow(Path path, String text) throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    if (path.getParent() != null) {
      Files.createDirectories(path.getParent());
    }
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The text, or null when there is no file yet (blocking: call from a worker). */
  public String readNow() throws IOException {
    return Files.exists(path) ? Files.readString(path, StandardCharsets.UTF_8) : null;
  }
}
