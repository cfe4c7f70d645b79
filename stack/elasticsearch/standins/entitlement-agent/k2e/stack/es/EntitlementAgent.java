package k2e.stack.es;

import org.elasticsearch.entitlement.initialization.EntitlementInitialization;

import java.lang.instrument.Instrumentation;

/**
 * Stand-in for Elasticsearch's entitlement agent jar (lib/entitlement-agent/, not on Maven Central).
 * The server attaches this jar to itself at startup (EntitlementBootstrap -> VirtualMachine.loadAgent),
 * after exporting the initialization package to the unnamed module; the agent only hands the
 * Instrumentation instance over to the entitlement library, which installs its checks.
 * The jar manifest names this class as Agent-Class.
 */
public final class EntitlementAgent {
    private EntitlementAgent() {}

    public static void agentmain(String agentArgs, Instrumentation inst) {
        EntitlementInitialization.initialize(inst);
    }
}
