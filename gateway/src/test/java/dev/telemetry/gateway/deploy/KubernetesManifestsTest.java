package dev.telemetry.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.telemetry.gateway.Gateway;
import dev.telemetry.gateway.analytics.slo.SloService;
import dev.telemetry.gateway.component.Components;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.GatewayConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import dev.telemetry.gateway.routing.RoutesFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders each kustomize overlay with kubectl (Debian's kubernetes-client; missing, the test fails) and checks the
 * objects against the gateway config they mount: the config, routing table and SLO file load; container ports,
 * Services and probes use the config's ports and paths the admin server serves; the grace period covers leave,
 * drain and preStop; queue directories are on the state volume (a PVC in the cluster); the pods run non-root with a
 * read-only root file system; the cluster's headless Service is the one discovery names, with RBAC to list it.
 */
class KubernetesManifestsTest {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"standalone", "cluster"})
  void overlayRendersAndMatchesTheGatewayConfig(String overlay) throws Exception {
    List<JsonNode> objects = render(ROOT.resolve("deploy/kubernetes/overlays/" + overlay));
    Map<String, JsonNode> byKindName = new HashMap<>();
    objects.forEach(o -> byKindName.put(o.path("kind").asText() + "/" + o.at("/metadata/name").asText(), o));
    String workloadKind = overlay.equals("cluster") ? "StatefulSet" : "Deployment";
    JsonNode workload = byKindName.get(workloadKind + "/telemetry-gateway");
    assertThat(workload).as(workloadKind).isNotNull();
    JsonNode pod = workload.at("/spec/template/spec");
    JsonNode container = pod.at("/containers/0");

    // The config the pod mounts, from its generated ConfigMap, loads — and with it the routing table and SLO file.
    Map<String, Path> mounts = new HashMap<>();
    for (JsonNode m : container.get("volumeMounts")) {
      mounts.put(m.get("name").asText(), Path.of(m.get("mountPath").asText()));
    }
    Map<String, String> configMapOfVolume = new HashMap<>();
    for (JsonNode v : pod.get("volumes")) {
      if (v.has("configMap")) {
        configMapOfVolume.put(v.get("name").asText(), v.at("/configMap/name").asText());
      }
    }
    Map<Path, String> files = new HashMap<>(); // mounted path → content
    configMapOfVolume.forEach((volume, cm) -> {
      JsonNode map = objects.stream().filter(o -> o.path("kind").asText().equals("ConfigMap")
          && o.at("/metadata/name").asText().equals(cm)).findFirst().orElseThrow(() -> new AssertionError(
              "volume " + volume + " names ConfigMap " + cm + ", which the overlay does not render"));
      map.get("data").fields().forEachRemaining(e -> files.put(mounts.get(volume).resolve(e.getKey()),
          e.getValue().asText()));
    });
    List<String> args = new ArrayList<>();
    container.get("args").forEach(a -> args.add(a.asText()));
    Path configPath = Path.of(args.get(args.indexOf("--config") + 1));
    assertThat(files).as("the --config file is mounted").containsKey(configPath);
    Path local = tmp.resolve("gateway.json");
    Files.writeString(local, files.get(configPath));
    GatewayConfig config = Components.BUILT_IN.configLoader(Map.of("GATEWAY_ADMIN_TOKEN",
        "a-token-for-the-test-0123456789", "POD_IP", "10.0.0.7")::get).load(local);
    Path routes = config.routingConfig().orElseThrow().file();
    assertThat(files).as("the routing table is mounted where the config reads it").containsKey(routes);
    Path routesLocal = tmp.resolve("routes.json");
    Files.writeString(routesLocal, files.get(routes));
    RoutesFile.check(routesLocal, Gateway.catalog(config));
    Path slos = config.slosConfig().orElseThrow().file();
    assertThat(files).as("the SLO file is mounted where the config reads it").containsKey(slos);
    Path slosLocal = tmp.resolve("slos.json");
    Files.writeString(slosLocal, files.get(slos));
    assertThat(SloService.check(slosLocal, Gateway.sloCatalog(config))).isNotEmpty();
    // Mounted as directories, not subPath: an edited ConfigMap reaches the pod, and the gateway reloads it.
    container.get("volumeMounts").forEach(m -> assertThat(m.has("subPath")).as(m.toString()).isFalse());

    // Ports: the container's named ports are the config's; the OTLP Service targets them.
    Map<String, Integer> ports = new HashMap<>();
    container.get("ports").forEach(p -> ports.put(p.get("name").asText(), p.get("containerPort").asInt()));
    OtlpReceiverConfig otlp = (OtlpReceiverConfig) config.receivers().get("otlp");
    assertThat(ports).containsEntry("otlp-grpc", otlp.grpc().port()).containsEntry("otlp-http", otlp.http().port())
        .containsEntry("admin", config.admin().endpoint().port());
    JsonNode service = byKindName.get("Service/telemetry-gateway");
    List<String> targets = new ArrayList<>();
    service.at("/spec/ports").forEach(p -> targets.add(p.get("targetPort").asText()));
    assertThat(targets).containsExactlyInAnyOrder("otlp-grpc", "otlp-http", "admin");
    assertThat(service.at("/spec/selector")).isEqualTo(workload.at("/spec/selector/matchLabels"));

    // Probes on the admin server's health endpoints.
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/health/ready");
    assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/health/live");
    assertThat(container.at("/readinessProbe/httpGet/port").asText()).isEqualTo("admin");
    assertThat(Files.readString(ROOT.resolve("gateway/src/main/java/dev/telemetry/gateway/admin/AdminServer.java")))
        .contains("router.get(\"/health/ready\")").contains("router.get(\"/health/live\")");

    // Stopping: preStop, then (cluster) the hand-over, then the drain, then the gateway's margin.
    long preStop = container.at("/lifecycle/preStop/exec/command/1").asLong();
    long leave = config.clusterConfig().map(c -> c.leaveTimeout().toSeconds()).orElse(0L);
    assertThat(pod.get("terminationGracePeriodSeconds").asLong()).as("terminationGracePeriodSeconds")
        .isGreaterThanOrEqualTo(preStop + leave + config.shutdownTimeout().toSeconds() + 10);

    // Non-root, read-only root file system; writable state only where the config writes.
    assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
    assertThat(container.at("/securityContext/readOnlyRootFilesystem").asBoolean()).isTrue();
    assertThat(container.at("/securityContext/allowPrivilegeEscalation").asBoolean()).isFalse();
    Path state = mounts.get("state");
    assertThat(state).isNotNull();
    for (ExporterConfig e : config.exporters().values()) {
      if (e.queue().type() == QueueConfig.Type.PERSISTENT) {
        assertThat(e.queue().directory().startsWith(state)).as(e.queue().directory() + " on the state volume")
            .isTrue();
      }
    }
    assertThat(config.slosConfig().orElseThrow().stateFile().startsWith(state)).isTrue();
    JsonNode limits = container.at("/resources/limits/memory");
    assertThat(limits.isMissingNode()).as("a memory limit (the JVM sizes its heap from it)").isFalse();

    // Budget, scaling and scraping aim at this workload.
    assertThat(byKindName.get("PodDisruptionBudget/telemetry-gateway").at("/spec/selector/matchLabels"))
        .isEqualTo(workload.at("/spec/selector/matchLabels"));
    JsonNode hpa = byKindName.get("HorizontalPodAutoscaler/telemetry-gateway");
    assertThat(hpa.at("/spec/scaleTargetRef/kind").asText()).isEqualTo(workloadKind);
    JsonNode monitor = byKindName.get("ServiceMonitor/telemetry-gateway");
    assertThat(monitor.at("/spec/endpoints/0/path").asText()).isEqualTo("/metrics");
    assertThat(monitor.at("/spec/endpoints/0/port").asText()).isEqualTo("admin");
    assertThat(monitor.at("/spec/selector/matchLabels")).isEqualTo(workload.at("/spec/selector/matchLabels"));
    JsonNode policy = byKindName.get("NetworkPolicy/telemetry-gateway");
    assertThat(policy.at("/spec/podSelector/matchLabels")).isEqualTo(workload.at("/spec/selector/matchLabels"));
    List<Integer> allowed = new ArrayList<>();
    policy.at("/spec/ingress").forEach(rule -> rule.get("ports").forEach(p -> allowed.add(p.get("port").asInt())));
    assertThat(allowed).as("the NetworkPolicy lets every container port in").containsAll(ports.values());
    assertThat(workload.at("/spec/template/metadata/labels").toString())
        .contains(workload.at("/spec/selector/matchLabels/app.kubernetes.io~1name").asText());

    if (overlay.equals("cluster")) {
      String discovery = ((dev.telemetry.gateway.config.ClusterConfig.KubernetesDiscovery) config.clusterConfig()
          .orElseThrow().discovery()).serviceName();
      JsonNode headless = byKindName.get("Service/" + discovery);
      assertThat(headless).as("the headless Service discovery names").isNotNull();
      assertThat(headless.at("/spec/clusterIP").asText()).isEqualTo("None");
      assertThat(workload.at("/spec/serviceName").asText()).isEqualTo(discovery);
      assertThat(ports).containsEntry("hazelcast", config.clusterConfig().get().bind().port())
          .containsEntry("event-bus", config.clusterConfig().get().eventBus().port());
      assertThat(workload.at("/spec/volumeClaimTemplates/0/metadata/name").asText()).isEqualTo("state");
      JsonNode role = byKindName.get("Role/telemetry-gateway-discovery");
      assertThat(role.at("/rules/0/resources").toString()).contains("endpoints").contains("pods");
      assertThat(byKindName.get("RoleBinding/telemetry-gateway-discovery").at("/subjects/0/name").asText())
          .isEqualTo(pod.get("serviceAccountName").asText());
    }
  }

  static List<JsonNode> render(Path overlay) throws Exception {
    String kubectl = null;
    for (String c : new String[] {"/usr/bin/kubectl", "/usr/local/bin/kubectl"}) {
      if (Files.isExecutable(Path.of(c))) {
        kubectl = c;
      }
    }
    assertThat(kubectl).as("kubectl (Debian's kubernetes-client; .ci/run installs it)").isNotNull();
    Process p = new ProcessBuilder(kubectl, "kustomize", overlay.toString()).redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(err).isZero();
    List<JsonNode> objects = new ArrayList<>();
    try (var it = YAML.readerFor(JsonNode.class).readValues(out)) {
      while (it.hasNext()) {
        JsonNode n = (JsonNode) it.next();
        if (n != null && !n.isEmpty()) {
          objects.add(n);
        }
      }
    }
    return objects;
  }
}
