"""ACD facts published to an MQTT broker for wallboards, CRMs and home-grown integrations."""

from callserver.mqtt.publisher import MqttPublisher
from callserver.mqtt.topics import message_for

__all__ = ["MqttPublisher", "message_for"]
