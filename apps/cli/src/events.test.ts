import { eventLine } from './events.js';

const envelope = { id: '1-1', time: '2026-11-28T10:00:03.123Z', resources: [] as string[] };

test.each([
  {
    name: 'a task state change',
    event: {
      ...envelope,
      'detail-type': 'ECS Task State Change',
      detail: {
        taskArn: 'arn:berth:ecs:local:0:task/default/4f1c',
        taskDefinitionArn: 'arn:berth:ecs:local:0:task-definition/web:3',
        lastStatus: 'STOPPED',
        desiredStatus: 'STOPPED',
        stoppedReason: 'Essential container in task exited',
      },
    },
    line: '10:00:03  task 4f1c (web:3)  STOPPED, desired STOPPED: Essential container in task exited',
  },
  {
    name: 'an instance state change',
    event: {
      ...envelope,
      'detail-type': 'ECS Container Instance State Change',
      detail: {
        containerInstanceArn: 'arn:berth:ecs:local:0:container-instance/default/9a',
        status: 'DRAINING',
        agentConnected: true,
      },
    },
    line: '10:00:03  instance 9a  DRAINING, agent connected',
  },
  {
    name: 'a deployment state change',
    event: {
      ...envelope,
      'detail-type': 'ECS Deployment State Change',
      resources: ['arn:berth:ecs:local:0:service/default/web'],
      detail: {
        eventName: 'SERVICE_DEPLOYMENT_FAILED',
        deploymentId: 'ecs-svc/77',
        reason: 'circuit breaker',
      },
    },
    line: '10:00:03  service web  SERVICE_DEPLOYMENT_FAILED ecs-svc/77: circuit breaker',
  },
  {
    name: 'a service action',
    event: {
      ...envelope,
      'detail-type': 'ECS Service Action',
      resources: ['arn:berth:ecs:local:0:service/default/web'],
      detail: { eventName: 'SERVICE_STEADY_STATE' },
    },
    line: '10:00:03  service web  SERVICE_STEADY_STATE',
  },
])('$name', ({ event, line }) => {
  expect(eventLine(event)).toBe(line);
});
