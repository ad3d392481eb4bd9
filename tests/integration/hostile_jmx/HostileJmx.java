// A hostile "node" for the serial-filter test: a real JMX-over-RMI endpoint on the node's JMX port
// whose StorageService answers every attribute read with a Canary, a Serializable whose readObject
// creates a marker file (it stands for a gadget chain's payload). A seat could run this in place
// of its node. Arguments: port, marker path, and the node's conf path (dselab counts a process
// whose command line names it as the node).
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.lang.management.ManagementFactory;
import java.rmi.registry.LocateRegistry;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.DynamicMBean;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.remote.JMXConnectorServer;
import javax.management.remote.JMXConnectorServerFactory;
import javax.management.remote.JMXServiceURL;

public class HostileJmx {
    public static class Canary implements Serializable {
        private static final long serialVersionUID = 1L;
        private final String marker;

        Canary(String marker) {
            this.marker = marker;
        }

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            new FileOutputStream(marker).close();  // the "payload": ran if this is ever deserialized
        }
    }

    public static class Gadget implements DynamicMBean {
        private final String marker;

        Gadget(String marker) {
            this.marker = marker;
        }

        public Object getAttribute(String name) {
            return new Canary(marker);
        }

        public AttributeList getAttributes(String[] names) {
            AttributeList list = new AttributeList();
            for (String name : names) {
                list.add(new Attribute(name, new Canary(marker)));
            }
            return list;
        }

        public Object invoke(String action, Object[] params, String[] signature) {
            return new Canary(marker);
        }

        public void setAttribute(Attribute attribute) {
        }

        public AttributeList setAttributes(AttributeList attributes) {
            return new AttributeList();
        }

        public MBeanInfo getMBeanInfo() {
            return new MBeanInfo(Gadget.class.getName(), "hostile", null, null, null, null);
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        LocateRegistry.createRegistry(port);
        MBeanServer beans = ManagementFactory.getPlatformMBeanServer();
        beans.registerMBean(new Gadget(args[1]), new ObjectName("org.apache.cassandra.db:type=StorageService"));
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + port + "/jmxrmi");
        JMXConnectorServer server = JMXConnectorServerFactory.newJMXConnectorServer(url, null, beans);
        server.start();
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
