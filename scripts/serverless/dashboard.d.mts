// Types for dashboard.mjs, so TypeScript tests can import it (the tsconfig does not check JavaScript).

/** The part of osls's `serverless` object the plugin reads. */
export interface DashboardServerless {
  service: { resources?: { Resources?: Record<string, { Type?: string; Properties?: { DashboardName?: unknown } }> } }
  getProvider(name: 'aws'): { getRegion(): string }
}

/** `Dashboard: <name>  <console URL>`, or undefined when the stack has no dashboard. */
export function describeDashboard(serverless: DashboardServerless): string | undefined

/** The osls plugin: prints the dashboard after `serverless deploy`. */
export default class Dashboard {
  constructor(serverless: DashboardServerless, options: unknown, utils: { log: { notice(text: string): void } })
  hooks: Record<string, () => void>
}
