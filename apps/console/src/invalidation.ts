import type { BerthEvent } from '@berth/api-client';

const last = (arn: unknown) => (typeof arn === 'string' ? arn.slice(arn.lastIndexOf('/') + 1) : undefined);

/** The queries an event makes stale (their keys' prefixes), and nothing else. */
export function touched(cluster: string, event: BerthEvent): string[][] {
  const c = ['c', cluster];
  const d = event.detail;
  switch (event['detail-type']) {
    case 'ECS Task State Change': {
      const service =
        typeof d.group === 'string' && d.group.startsWith('service:') ? d.group.slice(8) : undefined;
      const instance = last(d.containerInstanceArn);
      return [
        ['clusters'],
        [...c, 'cluster'],
        [...c, 'tasks'],
        [...c, 'task', last(d.taskArn) ?? ''],
        [...c, 'instances'],
        ...(instance ? [[...c, 'instance', instance]] : []),
        ...(service
          ? [
              [...c, 'services'],
              [...c, 'service', service],
            ]
          : []),
      ];
    }
    case 'ECS Container Instance State Change':
      return [
        ['clusters'],
        [...c, 'cluster'],
        [...c, 'instances'],
        [...c, 'instance', last(d.containerInstanceArn) ?? ''],
      ];
    default: {
      // Deployment state changes and service actions: resources[0] is the service's ARN.
      const service = last(event.resources[0]);
      return [
        ['clusters'],
        [...c, 'cluster'],
        [...c, 'services'],
        ...(service ? [[...c, 'service', service]] : []),
      ];
    }
  }
}
