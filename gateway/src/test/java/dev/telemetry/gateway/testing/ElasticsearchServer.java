package dev.telemetry.gateway.testing;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real Elasticsearch 8.19 (the integ-test-zip the build unpacks into target/elasticsearch) on random loopback
 * ports: single node, security off, its own config and data directories. Elasticsearch refuses to run as root, so
 * when the tests do it is started as an unprivileged user ({@code ES_TEST_USER}, else {@code gateway-es}, which
 * .ci/run creates, else {@code nobody}). It can be stopped and started again on the same port and data.
 */
public final class ElasticsearchServer implements AutoCloseable {
  private final Path home;
  private final Path dir;
  private final int httpPort = Ports.free();
  private final int transportPort = Ports.free();
  private final HttpClient http = HttpClient.newHttpClient();
  private Process process;

  public ElasticsearchServer() throws IOException {
    String h = System.getProperty("gateway.elasticsearch.home");
    if (h == null || !Files.isDirectory(Path.of(h, "bin"))) {
      throw new AssertionError("Elasticsearch not unpacked (gateway.elasticsearch.home=" + h
          + "); run the tests through Maven (mvn verify), which unpacks it");
    }
    this.home = Path.of(h);
    Path runs = Path.of(System.getProperty("java.io.tmpdir")).resolve("gateway-es-" + UUID.randomUUID());
    this.dir = Files.createDirectories(runs);
    Path config = Files.createDirectories(dir.resolve("config"));
    try (var files = Files.list(home.resolve("config"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        Files.copy(f, config.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    // A small heap: the tests index a few hundred documents, and CI has 2 cores.
    Files.writeString(Files.createDirectories(config.resolve("jvm.options.d")).resolve("heap.options"),
        "-Xms512m\n-Xmx512m\n");
    Files.createDirectories(dir.resolve("data"));
    Files.createDirectories(dir.resolve("logs"));
    // Elasticsearch's entitlements forbid a temp dir that contains its config dir: keep them siblings.
    Files.createDirectories(dir.resolve("tmp"));
    if (isRoot()) {
      chownRecursively(dir, user());
      dir.toFile().setExecutable(true, false);
    }
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  static String user() {
    String env = System.getenv("ES_TEST_USER");
    if (env != null && !env.isEmpty()) {
      return env;
    }
    try {
      Process p = new ProcessBuilder("id", "-u", "gateway-es").redirectErrorStream(true).start();
      return p.waitFor() == 0 ? "gateway-es" : "nobody";
    } catch (Exception e) {
      return "nobody";
    }
  }

  private static String id(String flag) throws IOException {
    try {
      Process p = new ProcessBuilder("id", flag, user()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (p.waitFor() != 0) {
        throw new IOException("id " + flag + " " + user() + ": " + out);
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static void chownRecursively(Path root, String user) throws IOException {
    UserPrincipal owner = root.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
        Files.setOwner(d, owner);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
        Files.setOwner(f, owner);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  public ElasticsearchServer start() throws IOException {
    List<String> cmd = new ArrayList<>();
    if (isRoot()) {
      cmd.addAll(List.of("setpriv", "--reuid=" + id("-u"), "--regid=" + id("-g"), "--init-groups"));
    }
    cmd.addAll(List.of(home.resolve("bin/elasticsearch").toString(),
        "-Expack.security.enabled=false", "-Ediscovery.type=single-node", "-Enetwork.host=127.0.0.1",
        "-Ehttp.port=" + httpPort, "-Etransport.port=" + transportPort,
        "-Epath.data=" + dir.resolve("data"), "-Epath.logs=" + dir.resolve("logs"),
        "-Ecluster.routing.allocation.disk.threshold_enabled=false"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("console.log").toFile()));
    pb.environment().put("ES_JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("ES_PATH_CONF", dir.resolve("config").toString());
    pb.environment().put("ES_TMPDIR", dir.resolve("tmp").toString());
    process = pb.start();
    Await.until(() -> "Elasticsearch ready on port " + httpPort + " (logs in " + dir + ")", Duration.ofSeconds(120),
        this::ready);
    return this;
  }

  private boolean ready() {
    if (!process.isAlive()) {
      throw new AssertionError("elasticsearch exited: " + console());
    }
    return Http.status(http, url() + "/_cluster/health") == 200;
  }

  public String console() {
    try {
      String s = Files.readString(dir.resolve("console.log"));
      return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    } catch (IOException e) {
      return e.toString();
    }
  }

  public String url() {
    return "http://127.0.0.1:" + httpPort;
  }

  /** Stops the node (graceful, then forced) and waits for it; {@link #start()} brings it back on the same port. */
  public void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.forEach(ProcessHandle::destroy);
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      tree.forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    for (ProcessHandle h : tree) {
      h.onExit().completeOnTimeout(h, 30, TimeUnit.SECONDS).join();
    }
    process = null;
  }

  public JsonObject get(String path) throws Exception {
    return new JsonObject(http.send(HttpRequest.newBuilder(URI.create(url() + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  /** A GET whose body is returned as text (for diagnostics such as _cat APIs). */
  public String raw(String path) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url() + path)).build(), HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (Exception e) {
      return e.toString();
    }
  }

  public JsonObject post(String path, String json) throws Exception {
    return new JsonObject(http.send(HttpRequest.newBuilder(URI.create(url() + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  /** Refreshes and searches an index pattern; returns the hits' _source objects. */
  public List<JsonObject> search(String index, String queryJson) throws Exception {
    post("/" + index + "/_refresh", "{}");
    JsonObject r = post("/" + index + "/_search?size=1000", queryJson);
    if (r.containsKey("error")) {
      String type = r.getJsonObject("error").getString("type");
      if ("index_not_found_exception".equals(type) || Integer.valueOf(503).equals(r.getInteger("status"))) {
        return List.of(); // not created yet, or its shard is still starting
      }
      throw new AssertionError("search failed: " + r.encode());
    }
    List<JsonObject> out = new ArrayList<>();
    r.getJsonObject("hits").getJsonArray("hits").forEach(h -> out.add(((JsonObject) h).getJsonObject("_source")));
    return out;
  }

  @Override
  public void close() throws Exception {
    stop();
    deleteRecursively(dir);
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var walk = Files.walk(root)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
