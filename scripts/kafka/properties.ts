/** Ports of the broker's listeners on 127.0.0.1. */
export interface KafkaPorts {
  readonly plaintext: number;
  readonly controller: number;
  /** SASL_PLAINTEXT listener (SCRAM-SHA-256/512); only with security. */
  readonly sasl?: number;
  /** SSL listener; only with security. */
  readonly ssl?: number;
}

/** Inputs of {@link renderServerProperties}. */
export interface ServerPropertiesInput {
  readonly kafkaVersion: string;
  readonly host: string;
  readonly ports: KafkaPorts;
  readonly dataDir: string;
  /** PKCS12 keystore of the SSL listener; required when `ports.ssl` is set. */
  readonly keystore?: { readonly file: string; readonly password: string };
}

/** SASL mechanisms the SASL_PLAINTEXT listener accepts. */
export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * server.properties of a single-node KRaft broker+controller: every replication factor and ISR is 1 and
 * the initial rebalance delay is 0 so consumer groups join at once.
 */
export function renderServerProperties(input: ServerPropertiesInput): string {
  const { host, ports } = input;
  const listeners = [`PLAINTEXT://${host}:${ports.plaintext}`];
  const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT'];
  if (ports.sasl !== undefined) {
    listeners.push(`SASL_PLAINTEXT://${host}:${ports.sasl}`);
    protocols.push('SASL_PLAINTEXT:SASL_PLAINTEXT');
  }
  if (ports.ssl !== undefined) {
    listeners.push(`SSL://${host}:${ports.ssl}`);
    protocols.push('SSL:SSL');
  }
  const lines: string[] = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${ports.controller}`,
    `listeners=${[...listeners, `CONTROLLER://${host}:${ports.controller}`].join(',')}`,
    `advertised.listeners=${listeners.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${protocols.join(',')}`,
    `log.dirs=${input.dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'group.initial.rebalance.delay.ms=0',
    // Small segments and few threads: tests write little, and the machine is shared.
    'log.segment.bytes=16777216',
    'num.io.threads=2',
    'num.network.threads=2',
    'num.recovery.threads.per.data.dir=1',
  ];
  if (majorVersion(input.kafkaVersion) >= 4) {
    lines.push(
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
    );
  }
  if (ports.sasl !== undefined) lines.push(...saslLines());
  if (ports.ssl !== undefined) lines.push(...sslLines(input.keystore));
  return `${lines.join('\n')}\n`;
}

function saslLines(): string[] {
  const jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `listener.name.sasl_plaintext.sasl.enabled.mechanisms=${SCRAM_MECHANISMS.join(',')}`,
    ...SCRAM_MECHANISMS.map(
      (m) => `listener.name.sasl_plaintext.${m.toLowerCase()}.sasl.jaas.config=${jaas}`,
    ),
  ];
}

function sslLines(keystore: ServerPropertiesInput['keystore']): string[] {
  if (keystore === undefined) throw new Error('renderServerProperties: an SSL port needs a keystore');
  return [
    'listener.name.ssl.ssl.keystore.type=PKCS12',
    `listener.name.ssl.ssl.keystore.location=${keystore.file}`,
    `listener.name.ssl.ssl.keystore.password=${keystore.password}`,
    'listener.name.ssl.ssl.client.auth=none',
  ];
}

function majorVersion(version: string): number {
  return Number.parseInt(version.split('.')[0] ?? '0', 10);
}
