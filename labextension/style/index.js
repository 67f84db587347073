import '@xyflow/react/dist/style.css';
import './base.css';
import './palette.css';
import './run.css';
import './history.css';
import './properties.css';
import './workflowio.css';
import './schedules.css';
